"""Passwords people choose first (пароли, которые подбирают первыми), refused by the password policy.

The list holds the 8-or-more-character entries that open the published leak-frequency lists (the
"top passwords" of the RockYou, LinkedIn and Russian mail-service leaks as summarised by NCSC's 100k list
and SecLists), plus Russian-layout keyboard walks. Shorter ones are refused by the length rule anyway.
Besides the list, :func:`is_guessable` refuses one repeated character, keyboard and digit runs, and the
username (or the username with digits) as the password.
"""

from __future__ import annotations

__all__ = ["COMMON_PASSWORDS", "is_guessable"]

COMMON_PASSWORDS = frozenset(
    {
        "password", "password1", "password12", "password123", "password1234", "passw0rd", "p@ssw0rd",
        "p@ssword", "pa$$word", "12345678", "123456789", "1234567890", "0123456789", "987654321",
        "9876543210",
        "87654321", "11111111", "111111111", "00000000", "000000000", "12341234", "12121212", "11223344",
        "12344321", "123123123", "1q2w3e4r", "1q2w3e4r5t", "1q2w3e4r5t6y", "1qaz2wsx", "1qaz2wsx3edc",
        "zaq12wsx", "zaq1zaq1", "qwertyui", "qwertyuiop", "qwerty123", "qwerty1234", "qwerty12", "qwe123qwe",
        "asdfghjk", "asdfghjkl", "zxcvbnm1", "zxcvbnm123", "qazwsxedc", "qweasdzxc", "1234qwer", "qwer1234",
        "iloveyou", "iloveyou1", "princess", "sunshine", "football", "baseball", "basketball", "superman",
        "batman123", "starwars", "whatever", "trustno1", "letmein1", "letmein123", "welcome1", "welcome123",
        "changeme", "changeme1", "administrator", "admin123", "admin1234", "adminadmin", "rootroot",
        "master123", "mustang1", "michelle", "jennifer", "jonathan", "computer", "internet", "samsung1",
        "michael1", "charlie1", "dragon123", "monkey123", "shadow123", "liverpool", "chelsea1", "arsenal1",
        "blink182", "abcd1234", "abc12345", "abcdefgh", "abcdefg1", "aa123456", "a1234567", "a12345678",
        "q1w2e3r4", "q1w2e3r4t5", "1password", "123qweasd", "qwertyqwerty", "passpass", "testtest",
        "test1234",
        "default1", "secret123", "security", "elephant", "butterfly", "chocolate", "pokemon1", "nicole123",
        "anthony1", "startrek", "freedom1", "ginger123", "cookie123", "metallica", "slipknot", "pakistan",
        "cristiano", "ronaldo7", "manchester", "barcelona", "juventus1", "marina123", "natasha1", "nikita123",
        "vladimir", "maksim123", "aleksandr", "alexander", "kristina", "anastasia", "ekaterina", "dmitriy1",
        "sergey123", "andrey123", "tatyana1", "svetlana", "olga1234", "irina123", "moskva123", "russia123",
        "rossiya1", "spartak1", "zenit123", "cska1234", "privet123", "parol123", "parol1234", "parolparol",
        "kotik123", "solnyshko", "lubov123", "lyubov123", "666666666", "88888888", "99999999", "77777777",
        "55555555", "22222222", "33333333", "44444444", "66666666", "123456123", "654321654", "qwertyuiop123",
        "zxcvbnm,./", "йцукенгш", "йцукенгшщз", "йцукен123", "фывапрол", "пароль123", "парольпароль",
        "qwerty12345", "1234567a", "12345678a", "12345qwert", "123456qwerty", "zaq1xsw2", "xsw2zaq1",
    }
)

_RUNS = (
    "01234567890",
    "98765432109",
    "qwertyuiopasdfghjklzxcvbnm",
    "йцукенгшщзхъфывапролджэячсмитьбю",
    "abcdefghijklmnopqrstuvwxyz",
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
)


def is_guessable(password: str, username: str = "") -> str | None:
    """Why the password is among the first an attacker tries (Russian), or None."""
    low = password.lower()
    if low in COMMON_PASSWORDS:
        return "это один из самых распространённых паролей"
    if len(set(low)) <= 2:
        return "пароль состоит из одного-двух повторяющихся символов"
    if any(low in run for run in _RUNS):
        return "пароль — подряд идущие клавиши, буквы или цифры"
    name = username.lower()
    if name and (low.rstrip("0123456789") == name or (name in low and len(low) - len(name) < 4)):
        return "пароль повторяет имя пользователя"
    return None
