/** @odoo-module **/
/*
 * What a user meets, checked in the browser (issue 9). Run by
 * ihub_demo_integration/tests/test_ui_defects.py, which prepares the records and checks the
 * database afterwards.
 */
import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");

// An iHub error (here: Start without anyone to run as) is Odoo's readable warning with the
// message, not the "Oops! Something went wrong" dialog with a traceback.
tours.add("ihub_readable_error_tour", {
    steps: () => [
        {
            content: "On phones, the form's buttons are in its Actions menu",
            isActive: ["mobile"],
            trigger: ".o_form_view .o_cp_action_menus button.dropdown-toggle",
            run: "click",
        },
        {
            trigger: "button[name=action_start]",
            run: "click",
        },
        {
            content: "The message is shown as a warning",
            trigger: ".modal .o_error_dialog p:contains(has no responsible user)",
        },
        {
            content: "No crash dialog and no technical details",
            trigger:
                ".modal:not(:has(.modal-title:contains(Oops))):not(:has(button:contains(See technical details)))",
        },
        {
            trigger: ".modal .o-default-button",
            run: "click",
        },
        {
            content: "The integration did not start",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(Draft)",
        },
    ],
});

// The catalogue's Add opens an unsaved form of the type's own model; Discard leaves nothing.
tours.add("ihub_catalogue_discard_tour", {
    steps: () => [
        {
            trigger: ".o_kanban_view",
        },
        {
            trigger: ".o_control_panel .o-kanban-button-new",
            run: "click",
        },
        {
            trigger: ".modal .o_kanban_record:contains(Demo) button[name=action_create_integration]",
            run: "click",
        },
        {
            content: "The Demo's own settings are on the form, before anything is saved",
            trigger: ".o_form_view .o_field_widget[name=a_custom_field] input",
        },
        {
            content: "Named after its type, ready to be renamed",
            trigger: ".o_form_view .o_field_widget[name=name] input:value(Demo)",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=name] input",
            run: "edit Discarded Demo",
        },
        {
            trigger: ".o_form_button_cancel",
            run: "click",
        },
        {
            content: "Back on the dashboard",
            trigger: ".o_kanban_view .o_kanban_record",
        },
        {
            content: "Nothing was added",
            trigger: ".o_kanban_view:not(:has(.o_kanban_record:contains(Discarded Demo)))",
        },
    ],
});

// A plain iHub user: posts in the chatter, reads the schedule as a sentence, and is not
// offered Archive, Duplicate or Delete Anyway (the form then has no Actions menu at all).
tours.add("ihub_plain_user_tour", {
    steps: () => [
        {
            trigger: ".o_form_view .o_field_widget[name=interval_label]:contains(Every hour)",
        },
        {
            content: "No Actions menu: nothing in it is for this user",
            isActive: ["desktop"],
            trigger: ".o_control_panel:not(:has(.o_cp_action_menus))",
        },
        {
            content: "On phones the Actions menu holds the form's buttons",
            isActive: ["mobile"],
            trigger: ".o_form_view .o_cp_action_menus button.dropdown-toggle",
            run: "click",
        },
        {
            content: "... and nothing this user may not do",
            isActive: ["mobile"],
            trigger:
                ".o-dropdown--menu:has(button[name=action_run_manually]):not(:has(.o-dropdown-item:contains(Archive))):not(:has(.o-dropdown-item:contains(Duplicate))):not(:has(.o-dropdown-item:contains(Delete)))",
        },
        {
            isActive: ["mobile"],
            trigger: ".o_form_view .o_cp_action_menus button.dropdown-toggle",
            run: "click",
        },
        {
            trigger: ".o-mail-Chatter-logNote:enabled",
            run: "click",
        },
        {
            trigger: ".o-mail-Composer-input",
            run: "edit Paused the shop sync while the shop moves servers.",
        },
        {
            trigger: ".o-mail-Composer-send:enabled",
            run: "click",
        },
        {
            content: "The note is posted",
            trigger: ".o-mail-Message:contains(while the shop moves servers)",
        },
    ],
});
