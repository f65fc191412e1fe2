import type { Generated } from "kysely";
import type { ProcessedEventsTable } from "@lsp/service-kit";

export interface DashboardDB extends ProcessedEventsTable {
  location_days: {
    tenant_id: string;
    location_id: string;
    business_day: string;
    revenue_vnd: Generated<number>;
    orders: Generated<number>;
    updated_at: Generated<Date>;
  };
}
