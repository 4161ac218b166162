-- booking.raise_snapshot_conflict(barber, blocked interval)
-- What book_appointment() and update_appointment() raise when, under REPEATABLE READ or
-- SERIALIZABLE, the exclusion constraint refuses a row whose conflict the transaction's
-- snapshot cannot show (an appointment committed after the snapshot was taken): 40001
-- serialization_failure, the SQLSTATE that tells a client to retry the whole transaction
-- (PostgreSQL reports unique violations under SERIALIZABLE the same way). The retry, in a
-- new snapshot, gets the usual 23P01 naming the conflicting appointment.
-- Locks: none. Raises: 40001 serialization_failure, always.
CREATE OR REPLACE FUNCTION booking.raise_snapshot_conflict(p_barber_id bigint, p_during tstzrange)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM booking.raise_error('serialization_failure',
        format('Another transaction booked barber %s within %s to %s after this transaction''s snapshot was taken (%s).',
               p_barber_id, booking.rfc3339(lower(p_during)), booking.rfc3339(upper(p_during)),
               current_setting('transaction_isolation')),
        'Retry in a new transaction: it will name the conflicting appointment (23P01).');
END
$$;
