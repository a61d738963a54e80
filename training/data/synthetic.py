"""Synthetic declarations of tools the model has never seen, with requests that fit them.

Seal-Tools teaches reading declarations, but its calls rarely leave an optional
argument out and almost never repeat one function. Real users (and BFCL) do both,
so each family here declares required and optional parameters, and each request
template names only some of them: the answer passes exactly the arguments the
request mentions. These kinds of example come out:

- one call (often beside unrelated functions, so the name must be read);
- the same function called 2-4 times, once per item the request lists or once per
  sentence of a request that asks for each in its own words;
- a request no offered function can serve, answered in words, including near misses:
  the offered function's own subject, but not its job (a circumference for `circle_area`).

`FORM_FAMILIES` teach what the shipped model missed most on BFCL simple_python when it had
the right function: the declaration, not the request, decides a value's form ("Denver" ->
"Denver, CO" for "the city and state", "4.5%" -> 0.045 for a rate unless it asks for a
percentage, "$2.5 million" -> 2500000), and a phrase can switch a flag on ("including the
precipitation" -> include_precipitation: true).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any, Callable

from app.prompt.render import Conversation, Message
from app.tools.catalog import ToolSpec

from training.data.common import NO_FIT, Example, calls, home_context, say

Sample = Callable[[random.Random], tuple[str, Any]]  # (how the request says it, the argument value)
SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # JSON-schema type
    description: str
    sample: Sample
    required: bool = True
    items: Any = None  # an array's item schema ({"type": "integer"}, {"enum": [...]}), declared with it


@dataclass(frozen=True)
class Family:
    names: tuple[str, ...]  # alternative function names, so no one name is memorized
    description: str
    params: tuple[Param, ...]
    templates: tuple[str, ...]  # {param} slots; optional params appear only in some
    many: str = ""  # the param a parallel request lists several values of

    def spec(self, rng: random.Random) -> ToolSpec:
        props = {p.name: {"type": p.kind, "description": p.description} | ({"items": p.items} if p.items else {})
                 for p in self.params}
        required = [p.name for p in self.params if p.required]
        return ToolSpec(rng.choice(self.names), self.description,
                        {"type": "object", "properties": props, "required": required})


def integer(lo: int, hi: int, unit: str = "") -> Sample:
    def sample(rng: random.Random) -> tuple[str, Any]:
        n = rng.randint(lo, hi)
        return (f"{n} {unit}".strip() if unit else str(n)), n
    return sample


def number(lo: float, hi: float, unit: str = "", places: int = 1) -> Sample:
    def sample(rng: random.Random) -> tuple[str, Any]:
        x = round(rng.uniform(lo, hi), places)
        if rng.random() < 0.3:
            x = float(int(x))
        text = f"{x:g}"
        return (f"{text} {unit}".strip() if unit else text), x
    return sample


def one_of(*values: str | tuple[str, Any]) -> Sample:
    def sample(rng: random.Random) -> tuple[str, Any]:
        v = rng.choice(values)
        return v if isinstance(v, tuple) else (v, v)
    return sample


def flag(spoken_true: str, spoken_false: str) -> Sample:
    return lambda rng: (spoken_true, True) if rng.random() < 0.6 else (spoken_false, False)


CITIES = one_of("Paris", "Tokyo", "Lima", "Nairobi", "Toronto", "Berlin", "Mumbai", "Sydney", "Chicago", "Seoul",
                "Cairo", "Madrid", "Oslo", "Austin", "Denver", "Lisbon", "Hanoi", "Boston", "Dublin", "Quito",
                # US cities plain too: only a declaration that asks for the state gets one (run 13 added it everywhere)
                "Seattle", "Miami", "Phoenix", "Atlanta", "San Diego", "Houston", "Portland", "Nashville")
COUNTRIES = one_of("Japan", "Brazil", "Canada", "Kenya", "India", "France", "Mexico", "Norway", "Vietnam", "Peru")
PEOPLE = one_of("Marie Curie", "Alan Turing", "Ada Lovelace", "Nikola Tesla", "Frida Kahlo", "Nelson Mandela",
                "Isaac Newton", "Rosalind Franklin", "Leonardo da Vinci", "Katherine Johnson")
TICKERS = one_of(("Apple", "AAPL"), ("Microsoft", "MSFT"), ("Tesla", "TSLA"), ("Amazon", "AMZN"),
                 ("Nvidia", "NVDA"), ("Google", "GOOGL"), ("Netflix", "NFLX"), ("Intel", "INTC"))
CURRENCIES = one_of(("dollars", "USD"), ("euros", "EUR"), ("yen", "JPY"), ("pounds", "GBP"), ("rupees", "INR"),
                    ("Swiss francs", "CHF"), ("Canadian dollars", "CAD"))
YEARS = integer(1950, 2024)
TEAMS = one_of("Lakers", "Celtics", "Real Madrid", "Arsenal", "Yankees", "Warriors", "Bayern Munich", "Chiefs")
SONGS_BY = one_of("Taylor Swift", "Adele", "Coldplay", "Bad Bunny", "Beyoncé", "Ed Sheeran", "BTS", "Queen")
DISHES = one_of("lasagna", "pad thai", "banana bread", "chicken curry", "vegan chili", "pancakes", "risotto")
GENES = one_of("BRCA1", "TP53", "EGFR", "APOE", "CFTR", "MYC")
SPECIES = one_of("gray wolf", "bald eagle", "koala", "snow leopard", "monarch butterfly", "blue whale")
ELEMENTS = one_of("iron", "carbon", "gold", "oxygen", "sodium", "copper", "helium")
LANGS = one_of(("French", "fr"), ("Spanish", "es"), ("German", "de"), ("Japanese", "ja"), ("Italian", "it"))
PHRASES = one_of("good morning", "where is the station", "thank you very much", "how much does it cost",
                 "see you tomorrow", "I would like a coffee")
GENRES = one_of("comedy", "thriller", "documentary", "science fiction", "romance", "horror")
# Value pools of FORM_FAMILIES: what the request says -> the form the declaration asks for.
US_CITIES = one_of(("Denver", "Denver, CO"), ("Austin", "Austin, TX"), ("Seattle", "Seattle, WA"),
                   ("Miami", "Miami, FL"), ("Portland", "Portland, OR"), ("Phoenix", "Phoenix, AZ"),
                   ("Atlanta", "Atlanta, GA"), ("San Diego", "San Diego, CA"), ("Nashville", "Nashville, TN"),
                   ("Houston", "Houston, TX"), ("Boston", "Boston, MA"), ("Chicago", "Chicago, IL"))
PERCENTS = (2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 6.5, 7, 8, 9, 10, 12, 15)


def percent(as_decimal: bool) -> Sample:
    """A rate said in percent ("4.5%", "7 percent"): 0.045 where the declaration wants a decimal, else 4.5."""
    def sample(rng: random.Random) -> tuple[str, Any]:
        p = rng.choice(PERCENTS)
        spoken = f"{p:g}%" if rng.random() < 0.7 else f"{p:g} percent"
        return spoken, round(p / 100, 4) if as_decimal else float(p)
    return sample


def amount_in_words(lo: float, hi: float) -> Sample:
    """A sum said with a scale word ("2.5 million", "$300 thousand") or in digits ("$2,500,000"): the number."""
    fitting = [(x, word, int(x * scale)) for word, scale in (("thousand", 10**3), ("million", 10**6), ("billion", 10**9))
               for x in (1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 12, 20, 25, 50, 75, 120, 250, 300, 500)
               if lo <= x * scale <= hi]

    def sample(rng: random.Random) -> tuple[str, Any]:
        x, word, value = rng.choice(fitting)
        dollar = "$" if rng.random() < 0.5 else ""
        if rng.random() < 0.3:  # the same sums in digits stay as they are (run 13 learned to scale those too)
            return f"{dollar}{value:,}" if rng.random() < 0.5 else str(value), value
        return f"{dollar}{x:g} {word}", value
    return sample


# Families whose declarations ask for a form of the value the request does not say (a city with its state,
# a rate as a decimal, an amount in words as a number) or that a phrase switches on ("including the
# precipitation" -> include_precipitation: true).
FORM_FAMILIES: tuple[Family, ...] = (
    Family(("city_events.listings", "local_happenings", "find_city_events"), "Find events in a US city.",
           (Param("location", "string", "The city and state, e.g. Denver, CO.", US_CITIES),
            Param("category", "string", "Kind of event, e.g. concerts, comedy, theater; default all.",
                  one_of(("concerts", "concerts"), ("comedy shows", "comedy"), ("plays", "theater"), ("food festivals", "food")), False),
            Param("days_ahead", "integer", "How many days ahead to look, default 7.", integer(2, 30, "days"), False)),
           ("What's happening in {location} this week?", "Find {category} in {location}.",
            "any {category} in {location} in the next {days_ahead}?", "events in {location}")),
    Family(("realty.listing_search", "homes_on_market", "find_houses_for_sale"), "Search homes for sale.",
           (Param("location", "string", "City and state, e.g. Austin, TX.", US_CITIES),
            Param("max_price", "integer", "Highest price in dollars.", amount_in_words(100_000, 5_000_000)),
            Param("bedrooms", "integer", "Least number of bedrooms, optional.", integer(1, 5, "bedrooms"), False)),
           ("Homes for sale in {location} under {max_price}.", "Find a house in {location} with {bedrooms}, budget {max_price}.",
            "what can I buy in {location} for {max_price}?")),
    Family(("loan.monthly_cost", "calc_installment", "borrowing.payment_per_month"), "Monthly payment of a fixed-rate loan.",
           (Param("principal", "integer", "Amount borrowed.", amount_in_words(1_000, 5_000_000)),
            Param("annual_rate", "number", "The annual interest rate.", percent(True)),
            Param("years", "integer", "Length of the loan in years.", integer(2, 30, "years"))),
           ("What's the monthly payment on {principal} at {annual_rate} over {years}?",
            "Monthly installment on {principal} borrowed for {years}, rate {annual_rate}.",
            "I'm borrowing {principal} for {years} at {annual_rate} interest. How much a month?")),
    Family(("valuation.discount_to_today", "worth_today", "calc_present_worth"), "Present value of a future amount.",
           (Param("future_amount", "integer", "The amount received in the future.", amount_in_words(1_000, 1_000_000_000)),
            Param("discount_rate", "number", "The discount rate.", percent(True)),
            Param("years", "integer", "Years until it is received.", integer(1, 40, "years"))),
           ("What is {future_amount} received in {years} worth today at a {discount_rate} discount rate?",
            "Present value of {future_amount} in {years}, discounted at {discount_rate}.")),
    Family(("holding.project_value", "portfolio_outlook", "estimate_holding_growth"), "Projected value of an investment.",
           (Param("current_value", "integer", "Value today in dollars.", amount_in_words(1_000, 1_000_000_000)),
            Param("growth_rate", "number", "The expected annual growth rate.", percent(True)),
            Param("years", "integer", "Number of years.", integer(1, 30, "years"))),
           ("If my {current_value} portfolio grows {growth_rate} a year, what's it worth in {years}?",
            "Project {current_value} growing at {growth_rate} annually for {years}.")),
    Family(("tax.amount_due", "estimate_income_tax", "levy_calculator"), "Tax owed on an income.",
           (Param("income", "integer", "Yearly income in dollars.", amount_in_words(10_000, 10_000_000)),
            Param("tax_rate", "number", "The tax rate as a percentage, e.g. 20 for 20%.", percent(False)),
            Param("deductions", "integer", "Deductions in dollars, optional.", integer(1000, 20000), False)),
           ("How much tax on {income} at {tax_rate}?", "Tax due on an income of {income} with a {tax_rate} rate and {deductions} in deductions.",
            "I earn {income} and the tax rate is {tax_rate}. What do I owe?")),
    Family(("outlook.hourly", "weather_next_hours", "forecast_by_hour"), "Weather forecast for the coming hours.",
           (Param("city", "string", "City name.", CITIES),
            Param("hours", "integer", "How many hours ahead.", integer(6, 96)),
            Param("include_precipitation", "boolean", "Add rain and snow chances, default false.",
                  one_of(("including the precipitation", True), ("with the chance of rain", True), ("with rainfall", True)), False),
            Param("include_wind", "boolean", "Add wind speed, default false.", one_of(("and the wind", True), ("plus wind speeds", True)), False)),
           ("Forecast for {city} for the next {hours} hours.", "What will the weather be in {city} over the next {hours} hours {include_precipitation}?",
            "{city} weather, next {hours} hours, {include_precipitation} {include_wind}", "next {hours} hours in {city} {include_wind}")),
    Family(("rail.connections", "journey_planner", "find_train_route"), "Find a route between two cities by train or bus.",
           (Param("origin", "string", "Departure city.", CITIES),
            Param("destination", "string", "Arrival city.", CITIES),
            Param("mode", "string", "'train' or 'bus', default 'train'.", one_of(("by bus", "bus"), ("by train", "train")), False),
            Param("direct_only", "boolean", "Only routes with no changes, default false.", one_of(("direct", True), ("nonstop", True)), False)),
           ("How do I get from {origin} to {destination} {mode}?", "Find a {direct_only} connection from {origin} to {destination}.",
            "{direct_only} trip {origin} to {destination} {mode}", "route from {origin} to {destination}")),
    Family(("company.facts", "org_profile", "business_lookup"), "Information about a company.",
           (Param("company", "string", "Company name.", one_of("Apple", "Microsoft", "Tesla", "Nvidia", "Netflix", "Intel")),
            Param("detailed", "boolean", "Full profile instead of a summary, default false.", one_of(("detailed", True), ("in-depth", True), ("full", True)), False),
            Param("year", "integer", "Fiscal year, default the latest.", integer(2015, 2024), False)),
           ("Give me {detailed} information about {company}.", "Tell me about {company}.",
            "{company} company profile for {year}", "I want a {detailed} profile of {company} for {year}.")),
)

FAMILIES: tuple[Family, ...] = (
    Family(("calc_disc_area", "shapes.disc_surface", "round_area"), "Calculate the area of a circle.",
           (Param("radius", "number", "The radius of the circle.", number(1, 50)),
            Param("unit", "string", "Unit of the radius, default 'cm'.", one_of("cm", "m", "inches", "feet"), False)),
           ("What's the area of a circle with radius {radius}?", "Area of a circle, radius {radius} {unit}.",
            "I need the area of a circle whose radius is {radius}.", "compute circle area for r = {radius}"),
           many="radius"),
    Family(("triangle_area_from_sides", "shapes.triangle_surface", "tri_area"), "Area of a triangle from base and height.",
           (Param("base", "integer", "Length of the base.", integer(2, 40)),
            Param("height", "integer", "Height of the triangle.", integer(2, 40)),
            Param("unit", "string", "Unit of length (optional).", one_of("cm", "meters", "inches"), False)),
           ("Find the area of a triangle with base {base} and height {height}.",
            "triangle: base {base} {unit}, height {height} {unit}. area?",
            "How big is a triangle with a height of {height} and a base of {base}?")),
    Family(("numbers.fact", "factorial_of", "compute_factorial"), "Compute the factorial of a non-negative integer.",
           (Param("n", "integer", "The number.", integer(3, 20)),),
           ("What is the factorial of {n}?", "Calculate {n}!", "factorial of {n} please"), many="n"),
    Family(("numbers.common_divisor", "greatest_common_divisor", "calc_gcd"), "Greatest common divisor of two integers.",
           (Param("a", "integer", "First integer.", integer(6, 300)),
            Param("b", "integer", "Second integer.", integer(6, 300))),
           ("What's the GCD of {a} and {b}?", "greatest common divisor of {a} and {b}",
            "what number divides both {a} and {b} the most?")),
    Family(("poly.quadratic_zeros", "quadratic_root_finder", "quadratic_solver"), "Roots of ax^2 + bx + c = 0.",
           (Param("a", "integer", "Coefficient of x^2.", integer(1, 9)),
            Param("b", "integer", "Coefficient of x.", integer(-12, 12)),
            Param("c", "integer", "Constant term.", integer(-20, 20)),
            Param("root_type", "string", "'real' or 'all' roots, default 'all'.", one_of("real", "all"), False)),
           ("Solve the quadratic equation with a={a}, b={b}, c={c}.",
            "Find the {root_type} roots of a quadratic with coefficients {a}, {b} and {c}.",
            "roots of {a}x^2 + {b}x + {c} = 0")),
    Family(("savings.grow", "investment_future_value", "calc_compound_growth"),
           "Future value of an investment with compound interest.",
           (Param("principal", "number", "Initial amount.", number(500, 50000, places=0)),
            Param("rate", "number", "Annual interest rate as a decimal.", one_of(("3%", 0.03), ("5%", 0.05), ("4.5%", 0.045), ("7%", 0.07))),
            Param("years", "integer", "Number of years.", integer(1, 30)),
            Param("compounds_per_year", "integer", "Times compounded a year, default 1.", one_of(("monthly", 12), ("quarterly", 4), ("daily", 365)), False)),
           ("How much will {principal} grow to at {rate} a year for {years} years?",
            "Compound interest on {principal} at {rate} over {years} years, compounded {compounds_per_year}.",
            "If I invest {principal} at an annual rate of {rate} for {years} years, what will I have?")),
    Family(("market.quote", "stocks.latest_price", "fetch_share_price"), "Latest price of a stock by ticker symbol.",
           (Param("ticker", "string", "Ticker symbol, e.g. AAPL.", TICKERS),
            Param("exchange", "string", "Exchange, default NASDAQ.", one_of("NYSE", "NASDAQ", "LSE"), False)),
           ("What's {ticker} trading at?", "Get the current stock price of {ticker}.",
            "price of {ticker} shares on the {exchange}"), many="ticker"),
    Family(("fx.exchange_amount", "money_converter", "exchange_money"), "Convert an amount between currencies.",
           (Param("amount", "number", "Amount to convert.", number(5, 5000, places=0)),
            Param("from_currency", "string", "Currency code to convert from.", CURRENCIES),
            Param("to_currency", "string", "Currency code to convert to.", CURRENCIES)),
           ("Convert {amount} {from_currency} to {to_currency}.", "How many {to_currency} is {amount} {from_currency}?",
            "change {amount} {from_currency} into {to_currency}")),
    Family(("get_weather", "weather.current", "fetch_forecast"), "Current weather for a city.",
           (Param("city", "string", "City name.", CITIES),
            Param("units", "string", "'metric' or 'imperial', default metric.", one_of(("in Fahrenheit", "imperial"), ("in Celsius", "metric")), False)),
           ("What's the weather like in {city}?", "Weather in {city} {units}", "Is it cold in {city} right now?",
            "current conditions for {city}"), many="city"),
    Family(("census.headcount", "demographics.people_count", "country_inhabitants"), "Population of a country in a given year.",
           (Param("country", "string", "Country name.", COUNTRIES),
            Param("year", "integer", "Year, default the latest.", YEARS, False)),
           ("What's the population of {country}?", "population of {country} in {year}",
            "How many people lived in {country} in {year}?"), many="country"),
    Family(("dining.nearby_places", "eatery_finder", "locate_eatery"), "Find restaurants in a city.",
           (Param("location", "string", "City.", CITIES),
            Param("cuisine", "string", "Type of food.", one_of("Italian", "Thai", "vegan", "Mexican", "sushi")),
            Param("max_price", "integer", "Price level 1-4 (optional).", one_of(("cheap", 1), ("mid-range", 2), ("upscale", 4)), False)),
           ("Find {cuisine} restaurants in {location}.", "Any {max_price} {cuisine} places in {location}?",
            "I want {cuisine} food in {location}, where should I go?")),
    Family(("get_biography", "history.person_info", "lookup_person"), "Facts about a historical figure.",
           (Param("name", "string", "Full name.", PEOPLE),
            Param("detail", "string", "What to return: 'birth', 'death' or 'achievements'; default all.", one_of("birth", "death", "achievements"), False)),
           ("Tell me about {name}.", "Tell me about the {detail} of {name}.",
            "Who was {name}?", "Give me the biography of {name}."), many="name"),
    Family(("sports.team_record", "get_team_stats", "team_standing"), "Win/loss record of a team in a season.",
           (Param("team", "string", "Team name.", TEAMS),
            Param("season", "integer", "Season year.", integer(2010, 2024)),
            Param("include_playoffs", "boolean", "Count playoff games too, default false.", flag("including playoffs", "regular season only"), False)),
           ("What was the {team}'s record in {season}?", "{team} record for the {season} season, {include_playoffs}.",
            "How did the {team} do in {season}?")),
    Family(("audio.queue_artist", "player.artist_mix", "music.start_playlist"), "Play songs by an artist.",
           (Param("artist", "string", "Artist name.", SONGS_BY),
            Param("duration", "integer", "Minutes to play, optional.", integer(10, 60, "minutes"), False),
            Param("shuffle", "boolean", "Shuffle the songs.", flag("shuffled", "in order"), False)),
           ("Play some {artist}.", "Put on {artist} for {duration}.", "play {artist} songs {shuffle}"), many="artist"),
    Family(("cookbook.dish_steps", "kitchen.find_dish", "dish_instructions"), "Find a recipe for a dish.",
           (Param("dish", "string", "Name of the dish.", DISHES),
            Param("diet", "string", "Dietary restriction, optional.", one_of("gluten-free", "vegetarian", "dairy-free"), False),
            Param("max_minutes", "integer", "Longest cooking time in minutes.", integer(15, 90), False)),
           ("Find me a recipe for {dish}.", "I need a {diet} {dish} recipe.",
            "{dish} recipe that takes under {max_minutes} minutes"), many="dish"),
    Family(("genetics.gene_function", "get_gene_info", "lookup_gene"), "Function of a human gene.",
           (Param("gene", "string", "Gene symbol.", GENES),
            Param("species", "string", "Species, default 'human'.", one_of("mouse", "human", "zebrafish"), False)),
           ("What does the {gene} gene do?", "Function of {gene} in {species}.", "look up the gene {gene}"),
           many="gene"),
    Family(("wildlife.population_trend", "species_population", "get_species_count"), "Estimated wild population of a species.",
           (Param("species", "string", "Common name.", SPECIES),
            Param("year", "integer", "Year of the estimate, optional.", integer(1990, 2023), False)),
           ("What's the wild population of the {species}?", "population of the {species} in {year}",
            "how many of the {species} were there in {year}?"), many="species"),
    Family(("chemistry.atomic_mass", "element_info", "get_atomic_weight"), "Atomic mass of a chemical element.",
           (Param("element", "string", "Element name.", ELEMENTS),),
           ("What is the atomic mass of {element}?", "atomic weight of {element}"), many="element"),
    Family(("phrasebook.render", "text_to_language", "language_convert_text"), "Translate text into another language.",
           (Param("text", "string", "Text to translate.", PHRASES),
            Param("target_language", "string", "Language code, e.g. 'fr'.", LANGS),
            Param("formal", "boolean", "Use the formal register.", flag("formally", "casually"), False)),
           ('Translate "{text}" into {target_language}.', 'How do you say "{text}" in {target_language}, {formal}?'),
           many="target_language"),
    Family(("motion.end_speed", "calc_end_speed", "kinematics.final_speed"),
           "Final velocity of an object under constant acceleration.",
           (Param("initial_velocity", "number", "Starting speed in m/s.", number(0, 30, "m/s")),
            Param("acceleration", "number", "Acceleration in m/s^2.", number(1, 12, "m/s²")),
            Param("time", "number", "Time in seconds.", number(1, 20, "seconds"))),
           ("An object starts at {initial_velocity} and accelerates at {acceleration} for {time}. Final velocity?",
            "final speed after {time} with acceleration {acceleration} from {initial_velocity}")),
    Family(("cinema.pick_titles", "suggest_movies", "find_films"), "Recommend movies of a genre.",
           (Param("genre", "string", "Genre.", GENRES),
            Param("year_from", "integer", "Earliest release year, optional.", integer(1970, 2020), False),
            Param("limit", "integer", "How many, default 5.", integer(2, 10), False)),
           ("Recommend some {genre} movies.", "Give me {limit} {genre} films.", "{genre} movies made after {year_from}"),
           many="genre"),
    Family(("body_index_tool", "health.mass_index", "compute_body_index"), "Body mass index from weight and height.",
           (Param("weight_kg", "number", "Weight in kilograms.", number(45, 120, "kg", 0)),
            Param("height_cm", "number", "Height in centimeters.", number(150, 200, "cm", 0))),
           ("What's my BMI if I weigh {weight_kg} and I'm {height_cm} tall?", "BMI for {height_cm}, {weight_kg}")),
    Family(("airline.itineraries", "trip_flights", "search_airfare"), "Search flights between two cities on a date.",
           (Param("origin", "string", "Departure city.", CITIES),
            Param("destination", "string", "Arrival city.", CITIES),
            Param("date", "string", "Date, YYYY-MM-DD.", one_of(("March 3rd 2025", "2025-03-03"), ("June 14, 2025", "2025-06-14"), ("2025-10-01", "2025-10-01"))),
            Param("cabin", "string", "Cabin class, default economy.", one_of("business", "first", "premium economy"), False)),
           ("Find flights from {origin} to {destination} on {date}.",
            "I need a {cabin} ticket {origin} to {destination}, {date}.")),
    *FORM_FAMILIES,
)


NEAR_MISSES: dict[str, tuple[str, ...]] = {  # family (first name) -> requests its function cannot serve
    "calc_disc_area": ("What's the circumference of a circle with radius 4?", "volume of a sphere of radius 3 cm"),
    "triangle_area_from_sides": ("What's the perimeter of a triangle with sides 3, 4 and 5?",
                                 "Is a triangle with angles 30, 60 and 90 degrees a right triangle?"),
    "numbers.fact": ("Is 97 a prime number?", "What's 2 to the power of 12?"),
    "numbers.common_divisor": ("What's the least common multiple of 8 and 12?", "is 144 a perfect square"),
    "poly.quadratic_zeros": ("Solve x^3 - 2x + 1 = 0.", "What's the derivative of 3x^2 + 2x?"),
    "savings.grow": ("What's the monthly payment on a 200000 mortgage over 30 years?", "Which bank has the best savings rate?"),
    "market.quote": ("Should I buy Tesla shares this year?", "What was Apple's revenue in 2019?"),
    "fx.exchange_amount": ("What's the inflation rate in Japan?", "Which currency does Peru use?"),
    "get_weather": ("What time is it in Tokyo right now?", "When does the sun set in Oslo today?"),
    "census.headcount": ("What's the capital of Kenya?", "What language do people speak in Brazil?"),
    "dining.nearby_places": ("Book a table for two at 8pm at Luigi's.", "How do I make pad thai at home?"),
    "get_biography": ("Write a short poem about Ada Lovelace.", "Translate a quote by Isaac Newton into German."),
    "sports.team_record": ("Buy me two tickets for the next Lakers game.", "Who coaches the Celtics?"),
    "audio.queue_artist": ("Download the newest Adele album to my phone.", "How old is Ed Sheeran?"),
    "cookbook.dish_steps": ("How many calories are in a banana?", "Order pancakes for delivery."),
    "genetics.gene_function": ("Sequence my DNA from this saliva sample.", "How many chromosomes do dogs have?"),
    "wildlife.population_trend": ("Where do koalas live?", "What do snow leopards eat?"),
    "chemistry.atomic_mass": ("What's the boiling point of water at sea level?", "Balance the equation H2 + O2 -> H2O."),
    "phrasebook.render": ("Which language is this sentence in: 'obrigado pela ajuda'?", "Teach me Japanese grammar."),
    "motion.end_speed": ("How far does a ball fall in 3 seconds?", "What's the kinetic energy of a 2 kg ball at 5 m/s?"),
    "cinema.pick_titles": ("When is the next showing of the new thriller near me?", "Who directed Jaws?"),
    "body_index_tool": ("How many calories should I eat a day?", "What's a healthy resting heart rate?"),
    "airline.itineraries": ("Book a hotel in Lisbon for June 14.", "Is my flight LH 400 on time?"),
    "city_events.listings": ("Buy two tickets to the comedy show in Denver.", "What's the best neighborhood to live in Austin?"),
    "realty.listing_search": ("What's my house worth?", "Find me an apartment to rent in Seattle."),
    "loan.monthly_cost": ("Should I refinance my mortgage?", "What's my credit score?"),
    "valuation.discount_to_today": ("What was inflation last year?", "Is a 5% discount rate reasonable for a startup?"),
    "holding.project_value": ("Which stocks should I buy?", "Sell half of my Tesla shares."),
    "tax.amount_due": ("File my tax return.", "When is the tax deadline?"),
    "outlook.hourly": ("What was the weather in Chicago last Tuesday?", "When is sunrise in Oslo?"),
    "rail.connections": ("Book me a seat on the 9am train to Berlin.", "How long is the flight from Paris to Tokyo?"),
    "company.facts": ("Who will win the next election?", "Send my resume to Tesla."),
}

JOINS = ("Also, ", "And ", "Then ", "Plus, ", "One more: ", "Next, ")


def _sample_slots(rng: random.Random, family: Family, template: str, skip: str = "") -> tuple[dict, dict]:
    """(spoken, value) for each slot the template names, except `skip`."""
    by_name = {p.name: p for p in family.params}
    spoken, args = {}, {}
    for slot in dict.fromkeys(SLOT.findall(template)):
        if slot != skip:
            spoken[slot], args[slot] = by_name[slot].sample(rng)
    return spoken, args


def _in_order(family: Family, args: dict[str, Any]) -> dict[str, Any]:
    """Arguments in declaration order, as the model writes them."""
    return {p.name: args[p.name] for p in family.params if p.name in args}


def _fill(rng: random.Random, family: Family, template: str) -> tuple[str, dict[str, Any]]:
    """The request text and the arguments it asks for: exactly the slots the template names."""
    spoken, args = _sample_slots(rng, family, template)
    text = template.format(**spoken)
    return (text[0].upper() + text[1:]) if rng.random() < 0.8 else text.lower(), _in_order(family, args)


def _listing(items: list[str]) -> str:
    return ", ".join(items[:-1]) + " and " + items[-1]


def _parallel(rng: random.Random, family: Family, template: str) -> tuple[str, list[dict[str, Any]]]:
    """One request listing 2-4 values of `family.many`: one call each, the other arguments shared."""
    param = next(p for p in family.params if p.name == family.many)
    want = rng.randint(2, 4)
    values: list[tuple[str, Any]] = []
    for _ in range(20):  # small value pools may hold fewer distinct values than wanted
        sp, v = param.sample(rng)
        if v not in [x for _, x in values]:
            values.append((sp, v))
        if len(values) == want:
            break
    spoken, shared = _sample_slots(rng, family, template, skip=family.many)
    spoken[family.many] = _listing([sp for sp, _ in values])
    arg_list = [_in_order(family, shared | {family.many: v}) for _, v in values]
    return template.format(**spoken), arg_list


def _parallel_sentences(rng: random.Random, family: Family) -> tuple[str, list[dict[str, Any]]]:
    """2-4 requests to the same function, each in its own words: one call each, in order."""
    texts, arg_list = [], []
    want = rng.randint(2, 4)
    for _ in range(20):  # repeats are skipped; a few families have small value pools
        if len(arg_list) == want:
            break
        text, args = _fill(rng, family, rng.choice(family.templates))
        if args not in arg_list:
            if texts and texts[-1][-1] not in ".?!":
                texts[-1] += "."
            texts.append(text if not arg_list else rng.choice(JOINS) + text[0].lower() + text[1:])
            arg_list.append(args)
    return " ".join(texts), arg_list


def _beside(rng: random.Random, spec: ToolSpec, family: Family, most: int) -> tuple[ToolSpec, ...]:
    """`spec` among 0..`most` functions of other families, in random order: the name must be read."""
    offered = [spec] + [f.spec(rng) for f in rng.sample([f for f in FAMILIES if f is not family], rng.randint(0, most))]
    rng.shuffle(offered)
    return tuple(offered)


def _asked(rng: random.Random, tools: tuple[ToolSpec, ...], text: str) -> Conversation:
    return Conversation(tools, home_context(rng), (Message("user", text),))


def synthetic_examples(rng: random.Random, n_single: int, n_parallel: int, n_irrelevant: int,
                       n_sentences: int = 0, n_near_miss: int = 0) -> list[Example]:
    out: list[Example] = []
    for i in range(n_single):
        family = rng.choice(FAMILIES)
        spec = family.spec(rng)
        text, args = _fill(rng, family, rng.choice(family.templates))
        conv = _asked(rng, _beside(rng, spec, family, 3), text)
        out.append(Example(conv, calls((spec.name, args)), "synthetic", f"syn-{i}"))
    with_many = [f for f in FAMILIES if f.many]
    for i in range(n_parallel):
        family = rng.choice(with_many)
        spec = family.spec(rng)
        templates = [t for t in family.templates if "{" + family.many + "}" in t]
        text, arg_list = _parallel(rng, family, rng.choice(templates))
        conv = _asked(rng, _beside(rng, spec, family, 2), text)
        out.append(Example(conv, calls(*((spec.name, a) for a in arg_list)), "synthetic-parallel", f"synp-{i}"))
    for i in range(n_irrelevant):
        family = rng.choice(FAMILIES)
        text, _ = _fill(rng, family, rng.choice(family.templates))
        others = rng.sample([f for f in FAMILIES if f is not family], rng.randint(1, 3))
        conv = _asked(rng, tuple(f.spec(rng) for f in others), text)
        out.append(Example(conv, say(rng.choice(NO_FIT)), "synthetic-irrelevant", f"syni-{i}"))
    for i in range(n_sentences):
        family = rng.choice(FAMILIES)
        spec = family.spec(rng)
        text, arg_list = _parallel_sentences(rng, family)
        conv = _asked(rng, _beside(rng, spec, family, 2), text)
        out.append(Example(conv, calls(*((spec.name, a) for a in arg_list)), "synthetic-parallel", f"syns-{i}"))
    for i in range(n_near_miss):  # the function's own subject, not its job: BFCL-style irrelevance
        family = rng.choice(FAMILIES)
        others = rng.sample([f for f in FAMILIES if f is not family], rng.randint(0, 2))
        offered = [family.spec(rng)] + [f.spec(rng) for f in others]
        rng.shuffle(offered)
        conv = _asked(rng, tuple(offered), rng.choice(NEAR_MISSES[family.names[0]]))
        out.append(Example(conv, say(rng.choice(NO_FIT)), "synthetic-irrelevant", f"synn-{i}"))
    return out
