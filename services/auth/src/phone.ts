import { AppError } from "@lsp/runtime";

/**
 * Vietnamese mobile national numbers (without the trunk 0), libphonenumber's mobile pattern
 * (docs/domain.md §2): 9 digits, e.g. 912345678 (VinaPhone), 381234567 (Viettel).
 */
const VN_MOBILE =
  /^(?:(?:5(?:2[238]|59)|89[6-9]|99[013-9])\d{6}|(?:3\d|5[1689]|7[06-9]|8[1-8]|9[0-8])\d{7})$/;

/**
 * Parses what people type (`0912 345 678`, `+84 912-345-678`, `84912345678`) into E.164
 * (`+84912345678`); anything that is not a Vietnamese mobile number is a BAD_USER_INPUT.
 */
export function parseVietnameseMobile(input: string): string {
  const compact = input.replace(/[\s.\-()]/g, "");
  const national =
    /^\+84(\d+)$/.exec(compact)?.[1] ?? /^84(\d{9})$/.exec(compact)?.[1] ?? /^0(\d+)$/.exec(compact)?.[1];
  if (!national || !VN_MOBILE.test(national))
    throw new AppError(
      "BAD_USER_INPUT",
      "phone must be a Vietnamese mobile number, e.g. 0912345678 or +84912345678",
      {
        field: "phone",
      },
    );
  return `+84${national}`;
}

/** `+84912345678` → `+84*****5678`, for logs. */
export function maskPhone(e164: string): string {
  return `${e164.slice(0, 3)}*****${e164.slice(-4)}`;
}
