"""A deterministic generator of realistic customer-support messages for the demo project.

The same seed gives the same items, so `make run` twice shows the same demo.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

LABELS = [
    ("billing", "Billing"),
    ("technical", "Technical issue"),
    ("account", "Account access"),
    ("shipping", "Shipping & delivery"),
    ("feedback", "Feedback"),
]

INSTRUCTIONS = """\
## Support ticket triage

Read each customer message and choose the team that should answer it.

| Label | Use it when the customer... |
|---|---|
| **Billing** | asks about charges, refunds, invoices, prices or payment methods |
| **Technical issue** | reports that the app or website crashes, errors or behaves wrongly |
| **Account access** | cannot log in, wants to change email or password, or close the account |
| **Shipping & delivery** | asks where an order is, reports a late, lost or damaged parcel |
| **Feedback** | gives praise, a complaint or a suggestion without asking for an action |

If a message touches two topics, pick the one the customer **asks us to act on**.
Select the words that made you decide: they help us train models.
"""

_PRODUCTS = ["headphones", "smart watch", "coffee grinder", "desk lamp", "backpack", "phone case", "blender",
             "e-reader", "running shoes", "keyboard", "water bottle", "camera strap"]  # fmt: skip
_CHANNELS = ["email", "chat", "web form", "app"]
_PLANS = ["Basic", "Plus", "Pro", "Family"]
_DEVICES = ["iPhone 15", "Pixel 8", "Galaxy S23", "iPad", "Windows laptop", "MacBook", "Chromebook"]
_CITIES = ["Leeds", "Lyon", "Porto", "Gdansk", "Utrecht", "Bilbao", "Graz", "Aarhus", "Cork", "Turin"]
_OPENERS = ["Hi,", "Hello,", "Hey there,", "Good morning,", "Hi team,", "", "Dear support,"]
_CLOSERS = [
    "Thanks.",
    "Thank you!",
    "Cheers",
    "Regards, {name}",
    "Please help.",
    "",
    "Thanks in advance, {name}",
]
_NAMES = ["Ana", "Ben", "Chloé", "Dawid", "Emre", "Fatima", "Giulia", "Hiro", "Ines", "Jonas", "Kemi", "Lars"]

_TEMPLATES: dict[str, list[str]] = {
    "billing": [
        "I was charged twice for order #{order} ({amount} EUR). Can you refund one of the payments?",
        "My {plan} subscription renewed at {amount} EUR but the website said {amount2} EUR. Why the difference?",
        "Could you send me an invoice with my company VAT number for order #{order}?",
        "I cancelled my {plan} plan last week and still got billed {amount} EUR today.",
        "Is it possible to pay by bank transfer instead of card for the {product}?",
        "The refund for the returned {product} has not reached my account after {days} days.",
        "Why is there a {amount} EUR fee on my statement from you? I did not order anything this month.",
    ],
    "technical": [
        "The app crashes every time I open the order history on my {device}.",
        "I get 'Error 500' when I try to check out with the {product} in my basket.",
        "The {product} will not pair with my {device} after the latest firmware update.",
        "Push notifications stopped working on {device} since version {version}.",
        "The website keeps loading forever on the payment page, tried {browser} and {browser2}.",
        "Sync between the app and the {product} fails with code E{code}.",
        "Search returns nothing for '{product}' although I can see it on the home page.",
    ],
    "account": [
        "I can't log in, the reset password email never arrives at my address.",
        "Please change the email on my account, I no longer use my old work address.",
        "My account was locked after too many attempts. How do I unlock it?",
        "I want to delete my account and all my data, please confirm when done.",
        "Two-factor codes are sent to an old phone number I don't have anymore.",
        "Someone else seems to have logged into my account from {city}. Please secure it.",
        "How do I merge my two accounts? I made one with {channel} and one in the app.",
    ],
    "shipping": [
        "Order #{order} was due {days} days ago and tracking hasn't moved since {city}.",
        "The {product} arrived damaged, the box was crushed. What should I do?",
        "Tracking says delivered but I never received the parcel with my {product}.",
        "Can I change the delivery address for order #{order}? I'm moving to {city}.",
        "Do you ship to {city}? I can't select it at checkout.",
        "I received a {product2} instead of the {product} I ordered.",
        "How long does express delivery take to {city} for the {product}?",
    ],
    "feedback": [
        "Just wanted to say the {product} is fantastic, best purchase this year!",
        "The new app design is confusing, I liked the old menu better.",
        "Your chat support was really quick today, thanks to the agent who helped me.",
        "It would be great if you offered the {product} in more colours.",
        "Packaging uses too much plastic, please consider something greener.",
        "The {product} is good but the manual is hard to follow.",
        "Love the {plan} plan, the price is fair for what you get.",
    ],
}
# Real queues are imbalanced: most tickets are technical or shipping.
_WEIGHTS = {"billing": 0.2, "technical": 0.28, "account": 0.14, "shipping": 0.26, "feedback": 0.12}


def _fill(template: str, rng: random.Random) -> str:
    product, product2 = rng.sample(_PRODUCTS, 2)
    browser, browser2 = rng.sample(["Chrome", "Firefox", "Safari", "Edge"], 2)
    return template.format(
        order=rng.randint(100000, 999999), amount=f"{rng.randint(5, 400)}.{rng.randint(0, 99):02d}",
        amount2=f"{rng.randint(5, 400)}.{rng.randint(0, 99):02d}", plan=rng.choice(_PLANS), product=product,
        product2=product2, days=rng.randint(2, 21), device=rng.choice(_DEVICES),
        version=f"{rng.randint(3, 9)}.{rng.randint(0, 20)}", browser=browser, browser2=browser2,
        code=rng.randint(100, 999), city=rng.choice(_CITIES), channel=rng.choice(_CHANNELS),
    )  # fmt: skip


def demo_records(count: int = 3000, seed: int = 20261123) -> Iterator[dict[str, Any]]:
    """Yields `count` support messages with id, text and metadata (no labels: the demo is for labeling)."""
    for record, _ in demo_records_with_topics(count, seed):
        yield record


def demo_records_with_topics(count: int = 3000, seed: int = 20261123) -> Iterator[tuple[dict[str, Any], str]]:
    """The demo records with the topic each was generated from (what a careful analyst would answer)."""
    rng = random.Random(seed)
    topics = list(_WEIGHTS)
    weights = [_WEIGHTS[topic] for topic in topics]
    start = datetime(2026, 9, 1, 8, 0)
    for index in range(count):
        topic = rng.choices(topics, weights)[0]
        name = rng.choice(_NAMES)
        parts = [rng.choice(_OPENERS), _fill(rng.choice(_TEMPLATES[topic]), rng)]
        if rng.random() < 0.25:  # a second sentence from another topic makes the task realistic
            parts.append(_fill(rng.choice(_TEMPLATES[rng.choice(topics)]), rng))
        parts.append(rng.choice(_CLOSERS).format(name=name))
        record = {
            "id": f"T-{100000 + index}",
            "text": " ".join(part for part in parts if part),
            "channel": rng.choice(_CHANNELS),
            "customer": name,
            "received_at": (start + timedelta(minutes=17 * index + rng.randint(0, 16))).isoformat(),
        }
        yield record, topic


# --- The span demo: named entities in short support notes -------------------------------------------------

CITIES = _CITIES
PRODUCTS = _PRODUCTS
ENTITY_TYPES = [("person", "Person"), ("city", "City"), ("product", "Product")]
ENTITY_INSTRUCTIONS = """\
## Support note entities

Mark every **person** (a customer's or agent's name), **city** and **product** named in the note.

Select the words with the mouse, or move with the arrow keys (Shift+arrows grows the selection), then press the
type's key: 1 Person, 2 City, 3 Product. Click a span (or press Tab) to pick it; Delete removes it. A note
that names nothing is answered with Enter alone.
"""
_ENTITY_TEMPLATES = [
    "{person} from {city} wrote about a broken {product}.",
    "Please ship the {product} to {city} before Friday.",
    "{person} says the {product} never arrived.",
    "Refund approved for {person} ({product}, order {code}).",
    "Call back {person} in {city} about the {product}.",
    "The {product} shipped from our {city} warehouse on Monday.",
    "No customer named, only a question about delivery times.",
    "{person} asked whether the {product} works with the {device}.",
    "Our {city} depot is closed; {person} will collect the {product} later.",
    "Thanks for the quick reply!",
]


def entity_records(
    count: int = 400, seed: int = 20261206
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(record, its true spans) for the span demo: a note built from a template, the spans of its slots with
    code-point offsets (names such as Chloé included), and a split (every 10th valid, every 10th test)."""
    rng = random.Random(seed)
    for number in range(count):
        template = rng.choice(_ENTITY_TEMPLATES)
        values = {"person": rng.choice(_NAMES), "city": rng.choice(_CITIES), "product": rng.choice(_PRODUCTS),
                  "code": str(rng.randint(10000, 99999)), "device": rng.choice(_DEVICES)}  # fmt: skip
        text, spans = "", []
        for literal, field, _, _ in string.Formatter().parse(template):
            text += literal
            if field is None:
                continue
            start, value = len(text), values[field]
            text += value
            if field in {"person", "city", "product"}:
                spans.append({"start": start, "end": len(text), "label": field, "text": value})
        split = "valid" if number % 10 == 3 else "test" if number % 10 == 7 else "train"
        yield {"id": f"note-{number:04d}", "text": text, "split": split}, spans
