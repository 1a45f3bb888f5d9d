/** @odoo-module **/
/*
 * One integration from start to finish, for a manager and for a plain iHub user (issue 9):
 * add it from the catalogue (managers), start it, run it manually and watch the run end
 * without a reload, open its events and a run, make it fail, read the one failure notice,
 * Reset it, retry the failed run and see the notice closed.
 *
 * Run by ihub_demo_integration/tests/test_ui_e2e.py, which checks the database afterwards.
 * A plain user cannot change the demo's "Fail Runs": their tour is cut in phases, between
 * which the test (as the administrator) breaks and mends the integration.
 *
 * Steps made by screenshot(name) log a marker the test's browser answers by taking a picture
 * of the page (saved only under IHUB_SCREENSHOTS; see the test) - the README's pictures.
 */
import { rpc } from "@web/core/network/rpc";
import { registry } from "@web/core/registry";

const NAME = "Shop Orders";
const tours = registry.category("web_tour.tours");

/** A named picture of the page as it is now: wait until the test's browser took it. */
export function screenshot(name) {
    return {
        content: `Screenshot: ${name}`,
        trigger: "body:not(:has(.o_loading_indicator, .o-mail-Thread-loading, .fa-spin))",
        run: async () => {
            document.activeElement?.blur();
            console.log(`ihub-screenshot:${name}`);
            for (let waited = 0; waited < 15000; waited += 100) {
                if ((window.ihubScreenshotsTaken || []).includes(name)) {
                    return;
                }
                await new Promise((resolve) => setTimeout(resolve, 100));
            }
            throw new Error(`the test's browser did not answer screenshot ${name}`);
        },
    };
}

/** What the scheduler would do now (test-only route: tests have no cron threads). */
function runQueuedRuns(scheduled = false) {
    return {
        content: scheduled ? "The scheduler runs the integration" : "The runner runs the queued run",
        trigger: "body",
        run: async () => {
            await rpc("/test_ihub/run_due_jobs", { scheduled });
        },
    };
}

function markPage() {
    return {
        trigger: "body",
        run: () => {
            window.ihubE2eMark = true;
        },
    };
}

function checkNotReloaded() {
    if (!window.ihubE2eMark) {
        throw new Error("the page was reloaded: the run did not show up live");
    }
}

function state(label) {
    return {
        content: `The integration is ${label}`,
        trigger: `.o_statusbar_status .o_arrow_button_current:contains(${label})`,
    };
}

function button(name, content) {
    return { content, trigger: `.o_form_statusbar button[name=${name}]`, run: "click" };
}

function save() {
    return [
        { trigger: ".o_form_button_save:enabled", run: "click" },
        { trigger: ".o_form_view .o_form_saved" },
    ];
}

function backToIntegration() {
    return {
        content: "Back to the integration",
        trigger: `.o_breadcrumb .breadcrumb-item a:contains(${NAME})`,
        run: "click",
    };
}

/** Managers add it: Add and Discard leaves nothing; Add, fill and Save makes it. */
function addFromCatalogue() {
    const add = [
        { trigger: ".o_kanban_view" },
        {
            content: "New opens the catalogue of integration types",
            trigger: ".o_control_panel .o-kanban-button-new",
            run: "click",
        },
        {
            content: "Add a Demo integration",
            trigger: ".modal .o_kanban_record:contains(Demo) button[name=action_create_integration]",
            run: "click",
        },
        {
            content: "Its own settings are on the form before anything is saved",
            trigger: ".o_form_view .o_field_widget[name=a_custom_field] input",
        },
    ];
    return [
        ...add,
        { trigger: ".o_field_widget[name=name] input", run: "edit Not This One" },
        { content: "Discard it", trigger: ".o_form_button_cancel", run: "click" },
        {
            content: "Back on the dashboard, with nothing added",
            trigger: ".o_kanban_view:not(:has(.o_kanban_record:contains(Not This One)))",
        },
        ...add,
        { trigger: ".o_field_widget[name=name] input", run: `edit ${NAME}` },
        { trigger: ".o_field_widget[name=a_custom_field] input", run: "edit Web shop" },
        ...save(),
        button("action_open_integration", "Go on to the integration"),
        state("Draft"),
        {
            content: "One attempt per scheduled run: the first failure fails it",
            trigger: ".o_field_widget[name=max_attempts] input",
            run: "edit 1",
        },
        ...save(),
    ];
}

/** Open it from the dashboard (plain users: an administrator set it up). */
function openFromDashboard(label = "Draft") {
    return [
        {
            content: "The dashboard is in the menu",
            trigger: ".o_menu_sections a:contains(Integrations), .o_menu_sections button:contains(Integrations)",
            run: "click",
        },
        {
            content: "The integration is on the dashboard",
            trigger: `.o_kanban_record:contains(${NAME}) .o_ihub_integration_card .fw-bold`,
            run: "click",
        },
        state(label),
    ];
}

function startAndRun() {
    return [
        button("action_start", "Start it"),
        state("Active"),
        markPage(),
        button("action_run_manually", "Run it manually"),
        {
            content: "The period is asked first",
            trigger: ".modal .o_field_widget[name=date_from] input",
        },
        { trigger: ".modal .o_field_widget[name=date_to] input" },
        { trigger: ".modal .modal-footer button[name=action_run]", run: "click" },
        {
            content: "The notice links to the Runs page",
            trigger: ".o_notification:contains(starts in a moment) button:contains(Runs page)",
        },
        { trigger: ".o_notification .o_notification_close", run: "click" },
        { trigger: "body:not(:has(.o_notification))" },
        { trigger: ".o_notebook .nav-link:contains(Runs)", run: "click" },
        { trigger: ".o_field_widget[name=recent_job_ids] .o_data_row:contains(Pending)" },
        runQueuedRuns(),
        {
            content: "The run ends on screen, without a reload",
            trigger: ".o_field_widget[name=recent_job_ids] .o_data_row:first:contains(Done)",
            run: checkNotReloaded,
        },
        screenshot("integration"),
    ];
}

function eventsAndRun() {
    return [
        {
            content: "Open its events",
            trigger: ".o-form-buttonbox .oe_stat_button:contains(Events)",
            run: "click",
        },
        {
            content: "The Events page lists the integration's events",
            trigger: `.o_control_panel .o_searchview .o_facet_value:contains(${NAME})`,
        },
        {
            content: "The run's event names the period",
            trigger: ".o_list_view .o_data_row:contains(Demo run) td[name=summary]",
            run: "click",
        },
        {
            content: "The event links to its run",
            trigger: ".o_form_view .o_field_widget[name=job_id] a",
            run: "click",
        },
        {
            content: "The run's page shows its timeline",
            trigger: ".o_form_view .o_notebook .nav-link.active:contains(Timeline)",
        },
        { trigger: ".o_form_view .o_field_widget[name=timeline]:not(:empty)" },
        state("Done"),
        screenshot("run"),
        {
            content: "The run names its integration",
            trigger: `.o_form_view .o_field_widget[name=integration_id]:contains(${NAME})`,
        },
        ...openFromDashboard("Active"),
    ];
}

/** Managers break it themselves: the demo's "Fail Runs". */
function setFailRuns(checked) {
    return [
        button("action_open_settings", "Open the demo's settings"),
        {
            content: checked ? "Make its runs fail" : "Let its runs succeed again",
            trigger: `.o_field_widget[name=fail_run] input:${checked ? "not(:checked)" : "checked"}`,
            run: "click",
        },
        ...save(),
        backToIntegration(),
    ];
}

function fail() {
    return [
        state("Active"),
        markPage(),
        runQueuedRuns(true),
        {
            content: "Its scheduled run failed: the integration is failed",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(Failed)",
        },
        { content: "... shown without a reload", trigger: "body", run: checkNotReloaded },
        {
            content: "One notice, in plain words, says what happened and what to do",
            trigger: ".o-mail-Message:contains(stopped at):contains(click Reset and Start)",
            run: () => {
                const notices = [...document.querySelectorAll(".o-mail-Message")].filter((m) =>
                    m.textContent.includes("stopped at")
                );
                if (notices.length !== 1) {
                    throw new Error(`${notices.length} failure notices, expected one`);
                }
            },
        },
        {
            content: "The to-do for the responsible is open",
            trigger: ".o-mail-Activity:contains(has stopped)",
        },
        screenshot("failure_notice"),
    ];
}

function resetAndRetry() {
    return [
        state("Failed"),
        button("action_reset", "The cause is fixed: Reset it"),
        state("Stopped"),
        button("action_start", "Start it again"),
        state("Active"),
        {
            content: "Open its runs",
            trigger: ".o-form-buttonbox .oe_stat_button:contains(Runs)",
            run: "click",
        },
        {
            content: "The Runs page lists the integration's runs",
            trigger: `.o_control_panel .o_searchview .o_facet_value:contains(${NAME})`,
        },
        {
            content: "Open the failed run",
            trigger: ".o_list_view .o_data_row:contains(Scheduled):contains(Failed) td[name=trigger]",
            run: "click",
        },
        {
            content: "Its error is the demo's message, not a traceback",
            trigger: ".o_form_view div[name=error_message]:contains(failed because 'Fail Runs' is set)",
        },
        button("action_retry", "Retry it"),
        {
            content: "The retry follows it",
            trigger: ".o_notebook .nav-link:contains(Follow-up Runs)",
            run: "click",
        },
        { trigger: ".o_field_widget[name=child_job_ids] .o_data_row:contains(Pending)" },
        backToIntegration(),
        { trigger: ".o_notebook .nav-link:contains(Runs)", run: "click" },
        { trigger: ".o_field_widget[name=recent_job_ids] .o_data_row:first:contains(Pending)" },
        markPage(),
        runQueuedRuns(),
        {
            content: "The retry ends on screen, without a reload",
            trigger: ".o_field_widget[name=recent_job_ids] .o_data_row:first:contains(Done)",
            run: checkNotReloaded,
        },
        {
            content: "The notice is closed: healthy again",
            trigger: ".o-mail-Message:contains(Healthy again)",
        },
        { trigger: ".o-mail-Chatter:not(:has(.o-mail-Activity))" },
        {
            content: "Back to the dashboard",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains(Integrations)",
            run: "click",
        },
        {
            content: "The card is healthy",
            trigger: `.o_kanban_record:contains(${NAME}) .o_ihub_state:contains(Active)`,
        },
        {
            content: "... and counts its day in plain words: one error, not 1 errors",
            trigger: `.o_kanban_record:contains(${NAME}) .o_ihub_last_24h:contains(1 error):not(:contains(errors))`,
        },
        screenshot("dashboard"),
    ];
}

tours.add("ihub_e2e_manager_tour", {
    steps: () => [
        ...addFromCatalogue(),
        ...startAndRun(),
        ...eventsAndRun(),
        ...setFailRuns(true),
        ...fail(),
        ...setFailRuns(false),
        ...resetAndRetry(),
    ],
});

// A plain iHub user, in three phases (the test breaks, then mends, the integration between).
tours.add("ihub_e2e_user_run_tour", {
    steps: () => [...openFromDashboard(), ...startAndRun(), ...eventsAndRun()],
});
tours.add("ihub_e2e_user_failure_tour", {
    steps: () => [...openFromDashboard("Active"), ...fail()],
});
tours.add("ihub_e2e_user_recover_tour", {
    steps: () => [...openFromDashboard("Failed"), ...resetAndRetry()],
});

// At phone width: the dashboard and the form are usable.
tours.add("ihub_e2e_phone_tour", {
    steps: () => [
        {
            content: "The counters and the card fit the screen",
            trigger: `.o_ihub_counters .o_ihub_counter_runs`,
        },
        { trigger: `.o_kanban_record:contains(${NAME}) .o_ihub_state:contains(Active)` },
        screenshot("dashboard_phone"),
        {
            trigger: `.o_kanban_record:contains(${NAME}) .o_ihub_integration_card .fw-bold`,
            run: "click",
        },
        state("Active"),
        { trigger: ".o_form_view .o_field_widget[name=health]" },
        screenshot("integration_phone"),
        {
            content: "On phones, the form's buttons are in its Actions menu",
            trigger: ".o_form_view .o_cp_action_menus button.dropdown-toggle",
            run: "click",
        },
        {
            content: "Run it manually from there",
            trigger: ".o-dropdown--menu button[name=action_run_manually]",
            run: "click",
        },
        { trigger: ".modal .modal-footer button[name=action_run]", run: "click" },
        markPage(),
        { trigger: ".o_notebook .nav-link:contains(Runs)", run: "click" },
        { trigger: ".o_field_widget[name=recent_job_ids] .o_data_row:contains(Pending), .o_field_widget[name=recent_job_ids] .o_kanban_record:contains(Pending)" },
        runQueuedRuns(),
        {
            content: "The run ends on screen, without a reload",
            trigger:
                ".o_field_widget[name=recent_job_ids]:not(:contains(Pending)):contains(Done)",
            run: checkNotReloaded,
        },
    ],
});
