-- A restored or staging copy of the database must not run production integrations:
-- Odoo's `neutralize` command (and database duplication with "neutralize") runs this.
UPDATE ir_cron
   SET active = false
 WHERE id IN (SELECT cron_id FROM ihub_integration WHERE cron_id IS NOT NULL);
UPDATE ihub_job
   SET state = 'cancelled',
       ended_at = now() at time zone 'UTC',
       note = 'Cancelled: the database was neutralized.'
 WHERE state IN ('pending', 'running');
UPDATE ihub_integration
   SET state = 'stopped'
 WHERE state = 'active';
