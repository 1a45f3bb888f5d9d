"""18.0.1.1.0: the record rules of events, runs and action dates follow their integration.

They were loaded as ``noupdate`` data; their domains are part of iHub's security, so they are
now updated with the addon.
"""


def migrate(cr, version):
    cr.execute(
        """
        UPDATE ir_model_data SET noupdate = false
         WHERE module = 'ihub'
           AND name IN ('ihub_log_rule_company', 'ihub_action_date_rule_company',
                        'ihub_job_rule_company')
        """
    )
