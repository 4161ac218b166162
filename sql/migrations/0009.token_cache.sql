-- depends: 0008.change_feed
-- The service may cache who a token is (issue 13: the token check was a round trip of its
-- own on every request). For that, booking.authenticate_token() also returns how long the
-- answer holds (valid_until: the token's expiry), and every change that can withdraw a
-- token (an UPDATE or DELETE of booking.api_tokens or booking.staff) notifies the channel
-- `booking_tokens` from its own transaction (sql/functions/announce_token_change.sql):
-- rare writes, so the NOTIFY's commit lock costs the bookings nothing.
-- The new return type needs the old function dropped; sql/functions/ creates the new one.
DROP FUNCTION IF EXISTS booking.authenticate_token(bytea);
