-- depends: 0014.series
-- Staff API (issue 15, part 1): booking.set_working_hours and booking.add_time_off gain
-- p_force (refuse, unless true, a change that would leave active appointments outside the
-- barber's working time: BK019 schedule_conflict), and set_working_hours gains
-- p_expected_version (the If-Match of PUT /barbers/{id}/working-hours: BK001 when stale).
-- A new parameter is a new signature: the old ones are dropped here, and the functions'
-- files create the new ones (as every migrate does for sql/functions/).
DROP FUNCTION IF EXISTS booking.set_working_hours(bigint, jsonb, bigint);
DROP FUNCTION IF EXISTS booking.add_time_off(bigint, timestamptz, timestamptz, text, bigint);
