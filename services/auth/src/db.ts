import type { Generated } from "kysely";

export interface TenantsTable {
  id: Generated<string>;
  slug: string;
  name: string;
  created_at: Generated<Date>;
}

export interface LocationsTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  time_zone: Generated<string>;
  cutover_hour: Generated<number>;
  created_at: Generated<Date>;
}

export interface AuthDB {
  tenants: TenantsTable;
  locations: LocationsTable;
}
