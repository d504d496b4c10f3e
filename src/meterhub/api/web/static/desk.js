// Shared code of the service desk pages: labels and the page URLs.
export const DESK = "/cabinet/desk";
export const CHANNELS = { web: "кабинет", phone: "телефон", walk_in: "личный приём", email: "e-mail", letter: "письмо", fax: "факс" };
export const STATUSES = { new: "новая", in_progress: "в работе", done: "выполнена", rejected: "отклонена", closed: "закрыта" };
export const STATES = { overdue: "просрочена", at_risk: "под угрозой срыва", on_time: "в срок" };
export const EVENTS = {
  registered: "зарегистрирована", assigned: "назначена", reassigned: "переназначена", escalated: "эскалация",
  comment: "комментарий", attachment: "файл", responded: "ответ", resolved: "выполнена", closed: "закрыта",
  act: "акт", letter: "письмо", notified: "оповещение",
};

export function requestLink(id) {
  const a = document.createElement("a");
  a.href = `${DESK}/request?id=${id}`;
  a.textContent = `№ ${id}`;
  return a;
}
