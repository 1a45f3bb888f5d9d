/** @odoo-module **/
/*
 * Live runs: the server sends each iHub user who may see an integration an "ihub.run" bus
 * message when one of its runs is queued, starts, progresses or ends, or when its state changes
 * (ihub/models/ihub_job_live.py). Views that show runs reload what changed (useIHubLive).
 */
import { EventBus, onMounted, onWillUnmount } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";

export const ihubLiveService = {
    dependencies: ["bus_service"],
    start(env, { bus_service }) {
        const bus = new EventBus();
        let started = false;
        bus_service.subscribe("ihub.run", (payload) => {
            bus.trigger("ihub-run", payload);
        });
        return {
            bus,
            /** Connects the bus the first time a view wants live runs. */
            ensureStarted() {
                if (!started) {
                    started = true;
                    bus_service.start();
                }
            },
        };
    },
};

registry.category("services").add("ihub_live", ihubLiveService);

/**
 * Calls ``callback(payload)`` for each live message ``filter(payload)`` accepts, at most a few
 * times a second (several messages of one burst give one call), while the component lives.
 */
export function useIHubLive(callback, filter = () => true) {
    const live = useService("ihub_live");
    live.ensureStarted();
    let timer = null;
    let pending = [];
    // A message that comes while the view still loads waits for it: its model cannot reload
    // before its first load ended (seen on phones, where the bus answers sooner).
    let mounted = false;
    const flush = () => {
        if (!timer && mounted && pending.length) {
            timer = setTimeout(() => {
                const payloads = pending;
                pending = [];
                timer = null;
                callback(payloads);
            }, 250);
        }
    };
    const onMessage = ({ detail }) => {
        if (filter(detail)) {
            pending.push(detail);
            flush();
        }
    };
    live.bus.addEventListener("ihub-run", onMessage);
    onMounted(() => {
        mounted = true;
        flush();
    });
    onWillUnmount(() => {
        live.bus.removeEventListener("ihub-run", onMessage);
        clearTimeout(timer);
    });
}

/**
 * "Run Manually" queued a run: say so, with a link to the integration's runs, where it can be
 * followed live (ihub.integration._notify_queued).
 */
export function ihubRunQueuedAction(env, action) {
    const params = action.params || {};
    const close = env.services.notification.add(params.message, {
        type: "info",
        buttons: [
            {
                name: params.link_label,
                primary: true,
                onClick: () => {
                    close();
                    env.services.action.doAction("ihub.ihub_job_action", {
                        additionalContext: {
                            search_default_integration_id: params.integration_id,
                        },
                    });
                },
            },
        ],
    });
    return params.next;
}

registry.category("actions").add("ihub_run_queued", ihubRunQueuedAction);
