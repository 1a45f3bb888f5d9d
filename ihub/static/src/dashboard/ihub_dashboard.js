/** @odoo-module **/
/*
 * The iHub dashboard (js_class="ihub_dashboard" on the integrations kanban): counters above
 * the cards, each a filter, and cards that follow runs live.
 */
import { Component, onWillStart, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { kanbanView } from "@web/views/kanban/kanban_view";
import { KanbanController } from "@web/views/kanban/kanban_controller";
import { KanbanRenderer } from "@web/views/kanban/kanban_renderer";
import { useIHubLive } from "../live/ihub_live_service";

export class IHubDashboardCounters extends Component {
    static template = "ihub.DashboardCounters";
    static props = {};

    setup() {
        this.orm = useService("orm");
        this.state = useState({ counters: null });
        onWillStart(() => this.load());
        useIHubLive(() => this.load());
    }

    async load() {
        this.state.counters = await this.orm.call(
            "ihub.integration",
            "get_dashboard_counters",
            []
        );
    }

    get tiles() {
        const c = this.state.counters || {};
        return [
            { key: "failing", label: _t("Failing"), filter: "health_failing", tone: "danger" },
            { key: "late", label: _t("Late"), filter: "health_late", tone: "warning" },
            { key: "ok", label: _t("Healthy"), filter: "health_ok", tone: "success" },
            { key: "stopped", label: _t("Stopped"), filter: "stopped", tone: "secondary" },
        ].map((tile) => ({
            ...tile,
            value: c[tile.key] || 0,
            title: _t("Show only these integrations"),
        }));
    }

    /** Shows only the integrations a tile counts: its filter replaces the current search. */
    filterOn(filterName) {
        const searchModel = this.env.searchModel;
        const items = searchModel.getSearchItems((item) => item.name === filterName);
        searchModel.query = [];
        for (const item of items) {
            searchModel.toggleSearchItem(item.id);
        }
    }
}

export class IHubDashboardRenderer extends KanbanRenderer {
    static template = "ihub.DashboardRenderer";
    static components = { ...KanbanRenderer.components, IHubDashboardCounters };
}

export class IHubDashboardController extends KanbanController {
    setup() {
        super.setup();
        useIHubLive(() => this.model.load());
    }
}

registry.category("views").add("ihub_dashboard", {
    ...kanbanView,
    Controller: IHubDashboardController,
    Renderer: IHubDashboardRenderer,
});
