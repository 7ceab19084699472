// Words on the guard's screen, Russian by default, English on request (kept in localStorage).
const WORDS = {
  ru: {
    'title': 'Пост охраны',
    'login.title': 'Вход для охраны',
    'login.login': 'Логин',
    'login.password': 'Пароль',
    'login.submit': 'Войти',
    'login.wrong': 'Неверный логин или пароль',
    'login.throttled': 'Слишком много попыток. Повторите через {s} с',
    'login.failed': 'Шлюз не отвечает. Попробуйте ещё раз',
    'live.on': 'На связи',
    'live.off': 'НЕТ СВЯЗИ — экран не обновляется',
    'live.offShort': 'НЕТ СВЯЗИ',
    'logout': 'Выйти',
    'last.none': 'Проходов пока нет',
    'feed.title': 'Проходы',
    'status.uplink': 'Центр',
    'status.cards': 'Список карт',
    'status.cardCount': 'карт: {n}',
    'status.seq': '№ {n}',
    'status.lastEvent': 'обновлён',
    'status.outbox': 'Не отправлено',
    'status.readers': 'Считыватели',
    'uplink.online': 'на связи',
    'uplink.offline': 'нет связи',
    'uplink.connecting': 'подключение…',
    'uplink.disabled': 'не настроен',
    'reader.online': 'на связи',
    'reader.offline': 'НЕ НА СВЯЗИ',
    'age.never': 'никогда',
    'age.s': '{n} с назад',
    'age.m': '{n} мин назад',
    'age.h': '{n} ч назад',
    'age.d': '{n} дн назад',
    'dir.in': 'вход',
    'dir.out': 'выход',
    'verdict.open': 'ПРОХОД РАЗРЕШЁН',
    'verdict.deny': 'ПРОХОД ЗАПРЕЩЁН',
    'verdict.manual': 'ОТКРЫТО ВРУЧНУЮ',
    'reason.ok': 'карта действует',
    'reason.unknown_card': 'карта не зарегистрирована в школе',
    'reason.superseded': 'КАРТА ЗАМЕНЕНА — ИЗЫМИТЕ ЕЁ',
    'reason.blocked': 'карта заблокирована',
    'reason.holder_inactive': 'ученик не числится в школе',
    'reason.bad_request': 'карта не прочитана',
    'replaced.on': 'заменена {d}',
    'guard.by': 'открыл охранник {g}',
    'guard.admit': 'пропущен охранником {g}',
    'card': 'карта {c}',
    'gate': 'проход',
    'open.title': 'Открыть турникет вручную',
    'open.reader': 'Турникет',
    'open.reason': 'Причина (обязательно)',
    'open.reasonHint': 'например: скорая помощь, доставка, эвакуация',
    'open.submit': 'Открыть',
    'open.needReason': 'Укажите причину',
    'open.done': 'Открыто: {r}',
    'open.notDelivered': 'Считыватель не на связи — команда не дошла. Проход записан.',
    'admit.title': 'Пропустить ученика без карты',
    'admit.search': 'Фамилия или имя',
    'admit.reason': 'Причина',
    'admit.forgot': 'забыл карту',
    'admit.lost': 'потерял карту',
    'admit.broken': 'карта не работает',
    'admit.submit': 'Пропустить',
    'admit.done': 'Пропущен: {n}',
    'admit.none': 'Никого не найдено',
    'admit.more': 'Показаны не все — уточните запрос',
    'admit.inactive': 'не числится',
    'error.generic': 'Не выполнено: {e}',
    'error.csrf': 'Сессия устарела — обновите страницу',
    'lang.switch': 'English',
  },
  en: {
    'title': 'Guard post',
    'login.title': 'Guard login',
    'login.login': 'Login',
    'login.password': 'Password',
    'login.submit': 'Log in',
    'login.wrong': 'Wrong login or password',
    'login.throttled': 'Too many attempts. Try again in {s} s',
    'login.failed': 'The gateway does not answer. Try again',
    'live.on': 'Live',
    'live.off': 'NOT LIVE — the screen is not updating',
    'live.offShort': 'NOT LIVE',
    'logout': 'Log out',
    'last.none': 'No passes yet',
    'feed.title': 'Passes',
    'status.uplink': 'Centre',
    'status.cards': 'Card list',
    'status.cardCount': '{n} cards',
    'status.seq': '#{n}',
    'status.lastEvent': 'updated',
    'status.outbox': 'Not sent',
    'status.readers': 'Readers',
    'uplink.online': 'online',
    'uplink.offline': 'offline',
    'uplink.connecting': 'connecting…',
    'uplink.disabled': 'not configured',
    'reader.online': 'online',
    'reader.offline': 'OFFLINE',
    'age.never': 'never',
    'age.s': '{n} s ago',
    'age.m': '{n} min ago',
    'age.h': '{n} h ago',
    'age.d': '{n} d ago',
    'dir.in': 'in',
    'dir.out': 'out',
    'verdict.open': 'ADMITTED',
    'verdict.deny': 'DENIED',
    'verdict.manual': 'OPENED BY HAND',
    'reason.ok': 'valid card',
    'reason.unknown_card': 'card not registered at this school',
    'reason.superseded': 'CARD REPLACED — KEEP IT',
    'reason.blocked': 'card blocked',
    'reason.holder_inactive': 'student not enrolled',
    'reason.bad_request': 'card not read',
    'replaced.on': 'replaced {d}',
    'guard.by': 'opened by guard {g}',
    'guard.admit': 'let in by guard {g}',
    'card': 'card {c}',
    'gate': 'gate',
    'open.title': 'Open a turnstile by hand',
    'open.reader': 'Turnstile',
    'open.reason': 'Reason (required)',
    'open.reasonHint': 'e.g. ambulance, delivery, evacuation',
    'open.submit': 'Open',
    'open.needReason': 'Give a reason',
    'open.done': 'Opened: {r}',
    'open.notDelivered': 'The reader is offline — the command did not arrive. The pass is recorded.',
    'admit.title': 'Let in a student without a card',
    'admit.search': 'Surname or name',
    'admit.reason': 'Reason',
    'admit.forgot': 'forgot the card',
    'admit.lost': 'lost the card',
    'admit.broken': 'card does not work',
    'admit.submit': 'Let in',
    'admit.done': 'Let in: {n}',
    'admit.none': 'Nobody found',
    'admit.more': 'Not all shown — type more',
    'admit.inactive': 'not enrolled',
    'error.generic': 'Not done: {e}',
    'error.csrf': 'Session is stale — reload the page',
    'lang.switch': 'Русский',
  },
};

const KEY = 'schoolgate.lang';
let current = localStorage.getItem(KEY) === 'en' ? 'en' : 'ru';

export function lang() {
  return current;
}

export function t(key, params = {}) {
  const text = WORDS[current][key] ?? WORDS.ru[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/** Fills every [data-i18n] element's text and every [data-i18n-placeholder]'s placeholder. */
export function translate(root = document) {
  document.documentElement.lang = current;
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll('[data-i18n-placeholder]').forEach((el) => {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  });
}

/** Switches between Russian and English, remembers the choice, and calls onChange. */
export function installSwitch(button, onChange = () => {}) {
  button.addEventListener('click', () => {
    current = current === 'ru' ? 'en' : 'ru';
    localStorage.setItem(KEY, current);
    translate();
    onChange();
  });
}
