// The reason in an API error answer, as one line of text. The API answers its own refusals
// with a sentence in `detail`, and a body that fails validation (422) with a list of
// {loc, msg}: showing that list as it is read "[object Object]".
export function detailText(answer) {
  const detail = answer && answer.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail) && detail.length) {
    const first = detail[0];
    return String((first && first.msg) || first || "");
  }
  return "";
}
