/** @odoo-module **/
/*
 * Walks an iHub manager through adding an integration and starting it.
 * Run by ihub/tests/test_ui_tour.py (needs the "Demo" type of ihub_demo_integration).
 */
import { registry } from "@web/core/registry";

const NAME = "Tour Demo Integration";

registry.category("web_tour.tours").add("ihub_tour", {
    steps: () => [
        {
            content: "The iHub dashboard is open",
            trigger: ".o_breadcrumb:contains(Integrations)",
        },
        {
            trigger: ".o_kanban_view",
        },
        {
            content: "New opens the catalogue of integration types",
            trigger: ".o_control_panel .o-kanban-button-new",
            run: "click",
        },
        {
            content: "Each type shows its icon and what it does",
            trigger: ".modal .o_kanban_record:contains(Demo):contains(only logs the period) img",
        },
        {
            content: "Add a Demo integration",
            trigger: ".modal .o_kanban_record:contains(Demo) button[name=action_create_integration]",
            run: "click",
        },
        {
            content: "Add opens the form of the type's own model, with its own settings",
            trigger: ".o_form_view .o_field_widget[name=a_custom_field] input",
        },
        {
            content: "Name it",
            trigger: ".o_form_view .o_field_widget[name=name] input",
            run: `edit ${NAME}`,
        },
        {
            content: "Save the integration",
            trigger: ".o_form_button_save:enabled",
            run: "click",
        },
        {
            content: "Wait for the save",
            trigger: ".o_form_view .o_form_saved",
        },
        {
            content: "Go on to the integration",
            trigger: ".o_form_statusbar button[name=action_open_integration]",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=type_id]",
        },
        {
            content: "A new integration is a draft",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(Draft)",
        },
        {
            content: "Its type can no longer be changed",
            trigger: ".o_form_view .o_field_widget[name=type_id].o_readonly_modifier:contains(Demo)",
        },
        {
            content: "The notebook shows the Events page",
            trigger: ".o_notebook .nav-link:contains(Events)",
            run: "click",
        },
        {
            content: "No events yet: the page says so, without empty rows",
            trigger: ".o_notebook .tab-pane.active:contains(No events yet):not(:has(.o_list_renderer))",
        },
        {
            content: "The Demo page is added by the demo addon",
            trigger: ".o_notebook .nav-link:contains(Demo)",
        },
        {
            content: "Start the integration",
            trigger: ".o_form_statusbar button[name=action_start]",
            run: "click",
        },
        {
            content: "The integration is now active",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(Active)",
        },
        {
            content: "It can be stopped now",
            trigger: ".o_form_statusbar button[name=action_stop]",
        },
        {
            content: "Its schedule is shown",
            trigger: ".o_form_view .o_field_widget[name=interval_number] input",
        },
        {
            content: "The notebook shows the Runs page",
            trigger: ".o_notebook .nav-link:contains(Runs)",
            run: "click",
        },
        {
            content: "No runs yet: no empty rows above the hint either",
            trigger: ".o_notebook .tab-pane.active:contains(No runs yet):not(:has(.o_list_renderer))",
        },
        {
            content: "Open all runs of the integration",
            trigger: ".o-form-buttonbox .oe_stat_button:contains(Runs)",
            run: "click",
        },
        {
            content: "The runs are filtered on the integration",
            trigger: `.o_list_view .o_searchview .o_facet_value:contains(${NAME})`,
        },
        {
            content: "Back to the dashboard",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains(Integrations)",
            run: "click",
        },
        {
            content: "The dashboard shows the new integration as active",
            trigger: `.o_kanban_record:contains(${NAME}) .o_ihub_state:contains(Active)`,
        },
        {
            content: "Its card shows its type",
            trigger: `.o_kanban_record:contains(${NAME}) .o_ihub_type:contains(Demo)`,
        },
        {
            content: "Switch the dashboard to the list",
            trigger: ".o_control_panel .o_switch_view.o_list",
            run: "click",
        },
        {
            content: "New in the list opens the form, which asks for the type",
            trigger: ".o_control_panel .o_list_button_add",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=name] input",
            run: "edit Second Tour Integration",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=type_id] input",
            run: "edit Demo",
        },
        {
            content: "Pick the Demo type",
            trigger: ".o-autocomplete--dropdown-menu .ui-menu-item a:contains(Demo)",
            run: "click",
        },
        {
            content: "The type's description is shown",
            trigger: ".o_form_view .o_field_widget[name=type_summary]:contains(demo)",
        },
        {
            trigger: ".o_form_button_save:enabled",
            run: "click",
        },
        {
            content: "The new integration is a draft",
            trigger: ".o_form_view .o_form_saved",
        },
        {
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(Draft)",
        },
    ],
});
