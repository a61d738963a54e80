"""Declarations with a list parameter, and requests that name several of its items: one call, one list.

Why: 57 of the 22,277 examples of seeds 0-2 had a list-valued argument (all glaive). The synthetic
families teach "one call per listed item" for a scalar parameter (BFCL parallel), so the shipped model
did the same where the declaration takes a list: `get_stock_price(company_names: list)` for "Apple and
Microsoft" became two calls of one company each, and a request for "the rating and player count" of a
game whose `parameters` list allows exactly those values was answered in words. On the BFCL entries with
a list parameter it passed 26 of 67 simple_python entries (39 %, against 61 % of the others) and 4 of 29
parallel ones. Here the declaration's type decides: a list parameter gets every item in one call (one item
is still a list); the families beside it in the prompt keep scalar parameters, called once per item.
"""

from __future__ import annotations

import random
from typing import Any

from training.data.common import NO_FIT, Example, calls, say
from training.data.synthetic import Family, Param, Sample, _asked, _beside, _fill, _listing, one_of

Spoken = tuple[str, Any]


def several(pool: tuple[Spoken | str, ...], lo: int = 2, hi: int = 4) -> Sample:
    """`lo`-`hi` distinct items of `pool` (spoken, value), said as a listing: ("Paris, Lima and Oslo", [...])."""
    items = [p if isinstance(p, tuple) else (p, p) for p in pool]
    distinct = len({v for _, v in items})

    def sample(rng: random.Random) -> tuple[str, Any]:
        chosen: list[Spoken] = []
        for sp, v in rng.sample(items, len(items)):  # two spellings of one value count once
            if v not in [x for _, x in chosen]:
                chosen.append((sp, v))
        chosen = chosen[: rng.randint(lo, min(hi, distinct))]
        return _listing([sp for sp, _ in chosen]) if len(chosen) > 1 else chosen[0][0], [v for _, v in chosen]
    return sample


def numbers(lo: int, hi: int, count: tuple[int, int] = (3, 6), decimals: bool = False) -> Sample:
    """A few numbers as the request writes them ("4, 8.5 and 15"): the list of their values."""
    def sample(rng: random.Random) -> tuple[str, Any]:
        values = [round(rng.uniform(lo, hi), 1) if decimals and rng.random() < 0.5 else rng.randint(lo, hi)
                  for _ in range(rng.randint(*count))]
        values = [int(v) if float(v).is_integer() else v for v in values]  # "192" is written 192, not 192.0
        spoken = [f"{v:g}" for v in values]
        return (_listing(spoken) if rng.random() < 0.6 else ", ".join(spoken)), values
    return sample


def year_span(lo: int, hi: int) -> Sample:
    """"between 1990 and 2005" -> [1990, 2005]: a start and an end, not every year between."""
    def sample(rng: random.Random) -> tuple[str, Any]:
        start = rng.randint(lo, hi - 2)
        end = rng.randint(start + 1, min(hi, start + 30))
        return rng.choice((f"between {start} and {end}", f"from {start} to {end}", f"{start}-{end}")), [start, end]
    return sample


def _enum(values: tuple[Spoken, ...]) -> dict[str, Any]:
    return {"type": "string", "enum": list(dict.fromkeys(v for _, v in values))}


COMPANIES = ("Apple", "Microsoft", "Tesla", "Amazon", "Nvidia", "Google", "Netflix", "Intel", "Samsung", "Toyota")
GAME_FIELDS = (("the average rating", "average_rating"), ("the rating", "average_rating"),
               ("the number of players", "players"), ("how many can play", "players"), ("the playing time", "duration"),
               ("how long a game takes", "duration"), ("the minimum age", "min_age"), ("the designer", "designer"))
NUTRIENTS = (("protein", "protein"), ("calories", "calories"), ("carbs", "carbohydrates"),
             ("carbohydrates", "carbohydrates"), ("fat", "fat"), ("fiber", "fiber"), ("sugar", "sugar"))
STATS = (("points", "points"), ("assists", "assists"), ("rebounds", "rebounds"), ("steals", "steals"),
         ("blocks", "blocks"))
# Value pools chosen apart from BFCL's questions (no game, food, store or player its entries name).
FOODS = one_of("a mango", "oatmeal", "greek yogurt", "a bagel", "brown rice", "almonds", "salmon", "lentil soup")
GAMES = one_of("Splendor", "Carcassonne", "Pandemic", "Azul", "Wingspan", "Terraforming Mars", "Cascadia")
PLAYERS = one_of("Stephen Curry", "Nikola Jokic", "Giannis Antetokounmpo", "Luka Doncic", "Jayson Tatum")
INGREDIENTS = ("chicken", "rice", "broccoli", "garlic", "tomatoes", "spinach", "chickpeas", "tofu", "zucchini",
               "lemon", "eggs", "potatoes")
LANGUAGES = ("French", "Spanish", "German", "Japanese", "Italian", "Korean", "Portuguese")
EMAILS = ("ana@example.com", "bo.chen@mail.org", "kwame@studio.io", "lucia.r@firm.com", "sam@team.dev")

STR, INT, NUM = {"type": "string"}, {"type": "integer"}, {"type": "number"}

ARRAY_FAMILIES: tuple[Family, ...] = (
    Family(("market.quotes", "get_share_prices", "stock_price_lookup"), "Current share prices of companies.",
           (Param("companies", "array", "The companies to look up.", several(COMPANIES, 1, 4), items=STR),
            Param("currency", "string", "Currency of the prices, default USD.", one_of("EUR", "GBP", "JPY"), False)),
           ("What are {companies} trading at?", "share prices of {companies}",
            "How much is a share of {companies} in {currency}?", "Get me the current stock price of {companies}.")),
    Family(("boardgame.details", "board_game_lookup", "tabletop.info"), "Details of a board game.",
           (Param("game", "string", "Name of the game.", GAMES),
            Param("fields", "array", "Which details to return.", several(GAME_FIELDS, 1, 3), items=_enum(GAME_FIELDS))),
           ("What's {fields} of {game}?", "Find {fields} for the board game '{game}'.", "{game}: {fields}?")),
    Family(("food.nutrients", "nutrition_facts", "grocery.nutrition_info"), "Nutrition values of a food.",
           (Param("food", "string", "The food item.", FOODS),
            Param("nutrients", "array", "Nutrients to report.", several(NUTRIENTS, 1, 3), items=_enum(NUTRIENTS)),
            Param("store", "string", "Store whose product is meant, optional.", one_of("Lidl", "Tesco", "Kroger"),
                  False)),
           ("How much {nutrients} is in {food}?", "Check the {nutrients} in {food} from {store}.",
            "{nutrients} of {food}, please")),
    Family(("stats.mean", "average_of", "compute_mean"), "The arithmetic mean of a list of numbers.",
           (Param("values", "array", "The numbers.", numbers(1, 200, decimals=True), items=NUM),),
           ("What's the average of {values}?", "mean of {values}", "Calculate the mean of these numbers: {values}.")),
    Family(("stats.std_dev", "standard_deviation", "calc_spread"), "Standard deviation of a list of numbers.",
           (Param("data", "array", "The numbers.", numbers(1, 100), items=INT),
            Param("sample", "boolean", "Sample instead of population deviation, default false.",
                  one_of(("as a sample", True), ("for a sample", True)), False)),
           ("Standard deviation of {data}?", "Find the standard deviation of {data} {sample}.",
            "how spread out are {data}")),
    Family(("recipes.find", "recipe_search", "cookbook.lookup"), "Find recipes that use given ingredients.",
           (Param("ingredients", "array", "Ingredients the recipe must use.", several(INGREDIENTS, 2, 4), items=STR),
            Param("max_minutes", "integer", "Longest cooking time, optional.",
                  one_of(("under 30 minutes", 30), ("in 20 minutes or less", 20)), False)),
           ("Find a recipe with {ingredients}.", "What can I cook with {ingredients} {max_minutes}?",
            "recipe using {ingredients}")),
    Family(("text.translate_many", "multi_translate", "translate_to_languages"),
           "Translate a text into several languages.",
           (Param("text", "string", "The text.",
                  one_of("good morning", "thank you", "where is the station", "see you soon")),
            Param("languages", "array", "Target language names.", several(LANGUAGES, 1, 3), items=STR)),
           ("Translate '{text}' into {languages}.", "How do you say '{text}' in {languages}?",
            "'{text}' in {languages}")),
    Family(("history.events_in_range", "country_events_between", "timeline.lookup"),
           "Major events of a country over a span of years.",
           (Param("country", "string", "The country.",
                  one_of("France", "Japan", "Brazil", "India", "Kenya", "Canada")),
            Param("years", "array", "Start and end year, [start, end].", year_span(1800, 2020), items=INT)),
           ("What happened in {country} {years}?", "Major events in {country} {years}.", "{country} history {years}")),
    Family(("player.season_stats", "athlete_stats", "nba.player_numbers"), "Season statistics of a basketball player.",
           (Param("player", "string", "The player's name.", PLAYERS),
            Param("metrics", "array", "Statistics to return.", several(STATS, 1, 3), items=_enum(STATS)),
            Param("season", "integer", "Season year, default the current one.",
                  one_of(("in 2021", 2021), ("for 2023", 2023)), False)),
           ("{player}'s {metrics} {season}", "Get {metrics} per game for {player}.",
            "How many {metrics} does {player} average?")),
    Family(("mail.invite", "send_invitations", "calendar_invite_people"), "Invite people to an event by email.",
           (Param("event", "string", "The event.", one_of("the launch party", "Friday's demo", "the book club")),
            Param("emails", "array", "Addresses to invite.", several(EMAILS, 1, 3), items=STR)),
           ("Invite {emails} to {event}.", "send an invite for {event} to {emails}")),
)

# Requests on a list family's subject that its function cannot serve (run 19): run 18, trained on 600 calls to
# these families and no answers in words beside them, called a near-miss function far more readily.
NEAR_MISSES: dict[str, tuple[str, ...]] = {
    "market.quotes": ("Should I sell my Intel shares?", "Who is the CEO of Samsung?", "When did Toyota go public?"),
    "boardgame.details": ("Teach me how to play Azul.", "Which board game should I buy for a family of four?",
                          "Who usually wins at Pandemic, the players or the game?"),
    "food.nutrients": ("How many calories should I eat in a day?", "Is salmon safe to eat raw?",
                       "Give me a meal plan for the week."),
    "stats.mean": ("What's the median of 3, 9 and 14?", "Sort these numbers: 12, 4, 30.",
                   "What is the largest of 18, 7 and 41?"),
    "stats.std_dev": ("Is 40 a prime number?", "What's the correlation between height and weight in my data?"),
    "recipes.find": ("How do I keep pasta from sticking?", "Order me groceries for the week.",
                     "Which wine goes with chicken?"),
    "text.translate_many": ("What language do they speak in Quebec?", "Correct the grammar of my essay.",
                            "Which language is easiest to learn?"),
    "history.events_in_range": ("Who is the president of France today?", "Which currency does Japan use?",
                                "Book me a flight to Japan."),
    "player.season_stats": ("How tall is Nikola Jokic?", "Get me tickets for the next game.",
                            "Which team should I bet on tonight?"),
    "mail.invite": ("Cancel the launch party.", "What should I wear to the book club?",
                    "Move Friday's demo to Monday."),
}


def array_examples(rng: random.Random, n: int, n_near_miss: int = 0) -> list[Example]:
    """`n` requests to a list-parameter family, beside 0-2 scalar families: one call holding the whole list;
    `n_near_miss` requests on a family's subject it cannot serve, answered in words."""
    out = []
    for i in range(n):
        family = rng.choice(ARRAY_FAMILIES)
        spec = family.spec(rng)
        text, args = _fill(rng, family, rng.choice(family.templates))
        offered = _beside(rng, spec, family, 2)  # scalar families only
        out.append(Example(_asked(rng, offered, text), calls((spec.name, args)), "synthetic-array", f"syna-{i}"))
    for i in range(n_near_miss):
        family = rng.choice(ARRAY_FAMILIES)
        offered = _beside(rng, family.spec(rng), family, 2)
        text = rng.choice(NEAR_MISSES[family.names[0]])
        out.append(Example(_asked(rng, offered, text), say(rng.choice(NO_FIT)), "synthetic-irrelevant", f"synan-{i}"))
    return out
