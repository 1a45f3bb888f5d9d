/** @odoo-module **/
/*
 * Views that follow runs live: the Runs list (js_class="ihub_run_list"), a run's form
 * (js_class="ihub_run_form") and the integration form (js_class="ihub_integration_form").
 */
import { registry } from "@web/core/registry";
import { formView } from "@web/views/form/form_view";
import { FormController } from "@web/views/form/form_controller";
import { listView } from "@web/views/list/list_view";
import { ListController } from "@web/views/list/list_controller";
import { useIHubLive } from "./ihub_live_service";

export class IHubRunListController extends ListController {
    setup() {
        super.setup();
        useIHubLive(() => {
            const root = this.model.root;
            // Never under the user's hands: a selection or an edited row stays as it is.
            if (root.selection?.length || root.editedRecord) {
                return;
            }
            this.model.load();
        });
    }
}

registry.category("views").add("ihub_run_list", {
    ...listView,
    Controller: IHubRunListController,
});

/** Reloads the open record when a message names it, unless the user is editing it. */
function useLiveRecord(controller, idsOf) {
    useIHubLive(
        async () => {
            const record = controller.model.root;
            if (!record.resId || record.isNew || (await record.isDirty())) {
                return;
            }
            await record.load();
        },
        (payload) => idsOf(payload).includes(controller.model.root.resId)
    );
}

export class IHubIntegrationFormController extends FormController {
    setup() {
        super.setup();
        useLiveRecord(this, (payload) => payload.integration_ids);
    }
}

registry.category("views").add("ihub_integration_form", {
    ...formView,
    Controller: IHubIntegrationFormController,
});

export class IHubRunFormController extends FormController {
    setup() {
        super.setup();
        useLiveRecord(this, (payload) => payload.job_ids);
    }
}

registry.category("views").add("ihub_run_form", {
    ...formView,
    Controller: IHubRunFormController,
});
