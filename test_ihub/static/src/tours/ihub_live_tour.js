/** @odoo-module **/
/*
 * Runs end on screen without a reload: the dashboard, the integration form and the Runs list
 * follow a run through the bus. Run by test_ihub/tests/test_live_tour.py, which creates the
 * integration "Live Tour"; the queued runs are run by the test-only route
 * /test_ihub/run_due_jobs (tests have no cron threads).
 */
import { rpc } from "@web/core/network/rpc";
import { registry } from "@web/core/registry";

const NAME = "Live Tour";
const CARD = `.o_kanban_record:contains(${NAME})`;

/** Fails the tour if the page was reloaded since markPage(). */
function checkNotReloaded() {
    if (!window.ihubLiveTourMark) {
        throw new Error("the page was reloaded: the run did not update live");
    }
}

function runQueuedRuns() {
    return {
        content: "The scheduler runs the queued run (test-only route)",
        trigger: "body",
        run: async () => {
            await rpc("/test_ihub/run_due_jobs", {});
        },
    };
}

function runFromWizard() {
    return [
        {
            content: "The period is asked first",
            trigger: ".modal .modal-footer button[name=action_run]",
            run: "click",
        },
    ];
}

registry.category("web_tour.tours").add("ihub_live_tour", {
    steps: () => [
        {
            content: "The dashboard shows counters above the cards",
            trigger: ".o_ihub_counters .o_ihub_counter_runs",
            run: () => {
                window.ihubLiveTourMark = true;
            },
        },
        {
            content: "The card has never succeeded yet",
            trigger: `${CARD} .o_ihub_last_success:contains(never)`,
        },
        {
            content: "Run it from its card",
            trigger: `${CARD} button[name=action_run_manually]`,
            run: "click",
        },
        ...runFromWizard(),
        {
            content: "The notice links to the runs",
            trigger: ".o_notification:contains(starts in a moment) button:contains(Runs page)",
        },
        runQueuedRuns(),
        {
            content: "The card shows the success without a reload",
            trigger: `${CARD} .o_ihub_last_success:not(:contains(never))`,
            run: checkNotReloaded,
        },
        {
            trigger: `${CARD} .o_ihub_health_ok, ${CARD} .o_ihub_health_idle`,
        },
        {
            content: "Open the integration",
            trigger: `${CARD} .o_ihub_integration_card .fw-bold`,
            run: "click",
        },
        {
            content: "Its Runs page shows the run that ended",
            trigger: ".o_notebook .nav-link:contains(Runs)",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=recent_job_ids] .o_data_row:contains(Done)",
        },
        {
            content: "Run it again from the form",
            trigger: ".o_form_statusbar button[name=action_run_manually]",
            run: "click",
        },
        ...runFromWizard(),
        {
            content: "The new run waits in the form's Runs page",
            trigger: ".o_field_widget[name=recent_job_ids] .o_data_row:contains(Pending)",
        },
        runQueuedRuns(),
        {
            content: "The form shows it done without a reload",
            trigger:
                ".o_field_widget[name=recent_job_ids] .o_data_row:first:contains(Done)",
            run: checkNotReloaded,
        },
        {
            content: "A third run, followed on the Runs page through the notice's link",
            trigger: ".o_form_statusbar button[name=action_run_manually]",
            run: "click",
        },
        ...runFromWizard(),
        {
            trigger: ".o_notification button:contains(Runs page)",
            run: "click",
        },
        {
            content: "The Runs page lists the integration's runs",
            trigger: `.o_list_view .o_searchview .o_facet_value:contains(${NAME})`,
        },
        {
            trigger: ".o_list_view .o_data_row:first:contains(Pending)",
        },
        runQueuedRuns(),
        {
            content: "The Runs list shows it done without a reload",
            trigger: ".o_list_view .o_data_row:first:contains(Done)",
            run: checkNotReloaded,
        },
    ],
});
