/**
 * The user a caller is in the notification feed. The owners of a tenant share one feed, addressed
 * by the tenant id (notifications reaches "the owner" of a tenant where nobody set preferences,
 * without asking auth who that is); managers and staff have their own, by user id.
 */
export function notificationRecipientOf(identity: {
  tenantId: string;
  userId?: string | undefined;
  role?: string | undefined;
}): string {
  if (identity.role === "owner") return identity.tenantId;
  return identity.userId ?? identity.tenantId;
}
