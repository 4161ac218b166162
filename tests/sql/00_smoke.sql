BEGIN;
SELECT plan(1);
SELECT has_schema('booking');
SELECT * FROM finish();
ROLLBACK;
