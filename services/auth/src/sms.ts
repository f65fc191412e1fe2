import { AppError } from "@lsp/runtime";
import { invokeBinding, type SidecarPorts } from "@lsp/dapr";

/** The output binding every SMS leaves through (dev: the launcher's sink; production: the provider). */
export const SMS_BINDING = "sms";

export function smsSender(ports: SidecarPorts): (to: string, text: string) => Promise<void> {
  return async (to, text) => {
    const res = await invokeBinding(ports, SMS_BINDING, { operation: "post", data: { to, text } }, 5000);
    if (!res.ok) throw new AppError("UNAVAILABLE", `SMS could not be sent (${res.status})`);
  };
}
