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
-- Nobody outside may push into the copy: its webhook URLs stop working.
UPDATE ihub_integration
   SET webhook_token = NULL,
       webhook_token_previous = NULL
 WHERE webhook_token IS NOT NULL OR webhook_token_previous IS NOT NULL;
-- ... and it sends no webhooks: subscriptions are disabled, queued deliveries dropped.
UPDATE ihub_webhook_subscription
   SET active = false,
       disabled_reason = 'Disabled: the database was neutralized.'
 WHERE active;
UPDATE ihub_webhook_delivery
   SET state = 'dead',
       error = 'Not sent: the database was neutralized.'
 WHERE state IN ('pending', 'failed');
