-- wasend schema, version 7: an event's data (wasend.Event.Data, JSON): what
-- it tells beyond its ids and status, for example the end of a job's wait,
-- or a context's restriction.
--
-- MySQL commits each DDL statement on its own; the migration runner skips
-- the statement when an interrupted run applied it already.

ALTER TABLE send_events ADD COLUMN data JSON NULL;
