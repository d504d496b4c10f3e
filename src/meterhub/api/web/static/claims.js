// Shared code of the legal department's pages: state names, money and dates.
export const CLAIMS = "/cabinet/claims";
export const STATES = {
  prepared: "подготовлено", filed: "заявление подано", order_issued: "вынесен судебный приказ",
  order_cancelled: "судебный приказ отменён", lawsuit_filed: "подано исковое заявление", decision: "вынесено решение суда",
  writ_issued: "получен исполнительный лист", enforcement: "на исполнении (ФССП / банк)", closed_paid: "закрыто: оплачено",
  closed_uncollectable: "закрыто: невозможно взыскать", closed_returned: "закрыто: возвращено",
  closed_refused: "закрыто: в иске отказано", closed_withdrawn: "закрыто: отозвано",
};
export const KIND_NAMES = { principal: "основной долг", penalty: "пени" };

// 123456 kopecks → "1 234,56"
export function rub(kopecks) {
  if (kopecks === null || kopecks === undefined) return "";
  const sign = kopecks < 0 ? "-" : "";
  const abs = Math.abs(kopecks);
  const whole = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, " ");
  return `${sign}${whole},${String(abs % 100).padStart(2, "0")}`;
}

// "1234,56" or "1234.56" → kopecks (integer arithmetic on the digits, never a float)
export function kopecks(text) {
  const m = String(text).trim().replace(",", ".").match(/^(\d+)(?:\.(\d{1,2}))?$/);
  if (!m) throw new Error(`Сумма «${text}»: укажите рубли и копейки, например 1234.56`);
  return Number(m[1]) * 100 + Number((m[2] || "0").padEnd(2, "0"));
}

export function today() {
  return new Date().toISOString().slice(0, 10);
}
