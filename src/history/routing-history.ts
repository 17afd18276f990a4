import type { RoutedWebhook, RoutingHistory } from "../queue/inbound/webhook-routing.js";
import type { HistoryRecorder } from "./recorder.js";
import { webhookRecord } from "./webhook-record.js";

/** Routing's part of the history: a record of each routed webhook (history/webhook-record.ts). */
export class RoutingRecords implements RoutingHistory {
  constructor(private readonly recorder: HistoryRecorder) {}

  routed({ receipt, events, decisions, deliveries, body }: RoutedWebhook): void {
    const recorded = deliveries.map(({ behind, ...delivery }) =>
      behind ? { ...delivery, behind: true as const } : delivery,
    );
    this.recorder.routed(webhookRecord(receipt, events, decisions, recorded), body);
  }
}
