/**
 * What an invite SMS says. The restaurant's name is chosen by whoever onboarded it, and the SMS
 * goes out under LSP's sender to a phone that did not ask for it, so the name is reduced to
 * plain words before it is put in: no control or invisible characters (bidi overrides,
 * zero-width joiners, line breaks), nothing that reads as a link, an e-mail address or a phone
 * number to call, and a capped length.
 */
export const NAME_MAX = 40;
const FALLBACK = "Một nhà hàng";

/** Control, format (bidi, zero-width), line and paragraph separators. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}]/gu;
/** scheme://…, www.…, and bare domains (labels then a letter TLD: `evil.com`, `a.b.vn/x`). */
const LINK =
  /(?:\b[a-z][a-z0-9+.-]*:\/\/\S*)|(?:\bwww\.\S*)|(?:[\p{L}\p{N}_%+-]+@)?(?:[\p{L}\p{N}-]+\.)+[a-z]{2,}\b(?:[/?#]\S*)?/giu;
/** A run of 7+ digits (spaces, dots, dashes between them allowed): a number to call or text. */
const PHONE_LIKE = /\+?\d(?:[\s.\-()]*\d){6,}/g;

/** The restaurant's name as it may appear in an SMS. */
export function smsSafeName(raw: string, max = NAME_MAX): string {
  // NFKC first: full-width dots and letters (`ｅｖｉｌ．ｃｏｍ`) become the ASCII a link checker sees.
  let s = raw.normalize("NFKC").replace(INVISIBLE, " ");
  s = s.replace(LINK, " ").replace(PHONE_LIKE, " ");
  s = s.replace(/\s+/g, " ").trim();
  if ([...s].length > max)
    s = `${[...s]
      .slice(0, max - 1)
      .join("")
      .trimEnd()}…`;
  return /[\p{L}\p{N}]/u.test(s) ? s : FALLBACK;
}

const ROLE_VI: Record<string, string> = { owner: "chủ", manager: "quản lý", staff: "nhân viên" };

/** The whole invite text: only the sanitised name is variable text; the rest is ours. */
export function inviteText(restaurantName: string | undefined, role: string, expiresAt: Date): string {
  const until = expiresAt.toLocaleDateString("vi-VN", { timeZone: "Asia/Ho_Chi_Minh" });
  return `${smsSafeName(restaurantName ?? "")} mời bạn làm ${ROLE_VI[role] ?? "nhân viên"} trên LSP. Đăng nhập bằng số điện thoại này trước ${until} để nhận lời mời.`;
}
