"""18.0.1.3.0: integrations remember whether a failure to-do may be open.

Successful runs close the to-do only where ``failure_notice_open`` is set: set it where one
is open today.
"""


def migrate(cr, version):
    cr.execute(
        """
        UPDATE ihub_integration SET failure_notice_open = true
         WHERE id IN (
            SELECT activity.res_id
              FROM mail_activity activity
              JOIN ir_model_data xmlid
                ON xmlid.model = 'mail.activity.type' AND xmlid.res_id = activity.activity_type_id
             WHERE activity.res_model = 'ihub.integration'
               AND xmlid.module = 'ihub' AND xmlid.name = 'mail_activity_type_failure'
         )
        """
    )
