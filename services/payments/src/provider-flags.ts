import type { PaymentProvider, FlagKey } from "@lsp/contracts";
import type { FlagSubject, FlagTable } from "@lsp/flags";

/**
 * Providers switched per restaurant by a feature flag (issue 16; the `flags` configuration store,
 * live in memory through payments' sidecar). Off: startPayment refuses the provider
 * (FEATURE_DISABLED) and its webhooks answer the provider's "not enabled" reply; reconciliation
 * still settles a payment the provider confirms (the money was taken before the switch).
 */
export const PROVIDER_FLAGS: Partial<Record<PaymentProvider, FlagKey>> = { vnpay: "payments.vnpay" };

export type FlagReader = Pick<FlagTable, "isEnabled">;

export function providerEnabled(flags: FlagReader, provider: PaymentProvider, subject: FlagSubject): boolean {
  const flag = PROVIDER_FLAGS[provider];
  return flag === undefined || flags.isEnabled(flag, subject);
}
