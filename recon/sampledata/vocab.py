"""Word lists for the sample-data generator: name parts, legal forms, streets, cities, phones.

Everything is a plain constant. A tuple of ``(text, weight)`` pairs is a weighted choice; a tuple of
strings whose first item is canonical lists the ways one thing is written. Countries are ISO codes:
ID Indonesia, AU Australia, NZ New Zealand, US United States, GB United Kingdom, DE Germany.
"""

from __future__ import annotations

from itertools import permutations, product
from typing import NamedTuple

COUNTRIES = ("ID", "AU", "NZ", "US", "GB", "DE")
COUNTRY_WEIGHTS = (0.30, 0.15, 0.05, 0.25, 0.15, 0.10)
CURRENCIES = ("USD", "IDR", "AUD", "NZD", "GBP", "EUR")
LOCAL_CURRENCY = {"ID": "IDR", "AU": "AUD", "NZ": "NZD", "US": "USD", "GB": "GBP", "DE": "EUR"}
VAT = {"ID": 0.11, "AU": 0.10, "NZ": 0.15, "US": 0.0, "GB": 0.20, "DE": 0.19}
# Units of currency per 1 USD, the centre of each currency's random walk.
FX_CENTRE = {"USD": 1.0, "IDR": 16000.0, "AUD": 1.52, "NZD": 1.66, "GBP": 0.78, "EUR": 0.92}

# How each system writes the country: (text, weight in the CRM, weight in the ERP).
COUNTRY_NAMES = {
    "ID": (("Indonesia", 60, 30), ("ID", 10, 40), ("indonesia", 8, 2), ("INDONESIA", 5, 20),
           ("IDN", 2, 6), ("Republic of Indonesia", 2, 0)),
    "AU": (("Australia", 60, 30), ("AU", 10, 40), ("australia", 8, 2), ("AUSTRALIA", 5, 20),
           ("AUS", 5, 6), ("Aust.", 2, 0)),
    "NZ": (("New Zealand", 60, 30), ("NZ", 15, 45), ("new zealand", 8, 2), ("NEW ZEALAND", 5, 20),
           ("N.Z.", 2, 1)),
    "US": (("United States", 45, 25), ("US", 12, 35), ("USA", 15, 15), ("us", 3, 1),
           ("United States of America", 8, 4), ("U.S.A.", 3, 0), ("UNITED STATES", 3, 15)),
    "GB": (("United Kingdom", 45, 25), ("UK", 20, 15), ("GB", 8, 40), ("united kingdom", 5, 2),
           ("Great Britain", 3, 2), ("UNITED KINGDOM", 3, 12)),
    "DE": (("Germany", 40, 20), ("Deutschland", 20, 15), ("DE", 12, 45), ("germany", 5, 2),
           ("GERMANY", 3, 12), ("GER", 2, 3)),
}  # fmt: skip

# --- company names --------------------------------------------------------------------------------
# A base name is one word from each slot in order; a slot with probability below 1 may be left out.


def _w(text: str) -> tuple[str, ...]:
    """Words of a space-separated list."""
    return tuple(text.split())


def _coined(heads: str, tails: str) -> tuple[str, ...]:
    return tuple(h + t for h, t in product(heads.split(), tails.split()) if h.lower() != t)


_ID_FIRST = _w(
    "Maju Sinar Karya Cahaya Bintang Mitra Sumber Putra Bumi Surya Mega Graha Anugerah Berkah "
    "Tunas Sentral Prima Duta Citra Dwi Tri Panca Multi Eka Harapan Setia Bangun Wahana Samudra "
    "Mutiara Pelita Gunung Lautan Permata Intan Mulia Rajawali Garuda Kencana Rezeki"
) + _coined(
    "Indo Nusa Sari Cipta Tama Arta Dharma Bina Buana Wira Sinar Mitra Karya",
    "indo tama jaya mas persada guna raya prima sakti nusa mulia kencana",
)
_EN_FIRST = _w(
    "Acme Summit Pinnacle Harbour Southern Northern Coastal Redgum Silver Golden Iron Bright "
    "Eastern Western Atlas Apex Horizon Meridian Sterling Crown Cedar Granite Phoenix Keystone "
    "Liberty Evergreen Riverside Lakeside Highland Falcon Eagle Harrison Mitchell Thompson Walker "
    "Baker Carter Hughes Bennett Fletcher Campbell Murray Kelly Morgan Parker Turner Sullivan "
    "Reynolds Whitfield Ashford Kingsley Hartley"
) + _coined(
    "Blue Red Green Stone Bright North South East West Oak Ash Pine Iron Silver Gold Clear Fair "
    "Wood Brook Hill",
    "stone field water bridge gate wood point view line well brook ridge haven vale ford worth "
    "dale mark way port",
)
_DE_SURNAMES = _w(
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch "
    "Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann "
    "Lange Werner Krause Lehmann Köhler Böhm Jäger Günther Vogel Frank Berger"
)
_DE_FIRST = (
    _DE_SURNAMES
    + _coined(
        "Nord Süd Ost West Alpen Rhein Elb Hansa Iso Tec Metall Stahl Holz Bau Licht Kraft Werk "
        "Inno Proto Sonnen",
        "werk tec tronic bau plan form pack log med chem stahl haus systeme technik druck",
    )
    + tuple(f"{a} & {b}" for a, b in permutations(_DE_SURNAMES[:24], 2))
)

NAME_SLOTS: dict[str, tuple[tuple[tuple[str, ...], float], ...]] = {
    "ID": (
        (_ID_FIRST, 1.0),
        (_w(
"Jaya Mas Abadi Makmur Agung Baru Indah Raya Sakti Utama Perkasa Sentosa Lestari "
               "Mandiri Sejati Wijaya Kencana Cemerlang"), 1.0),
        (_w(
"Sejahtera Bersama Gemilang Nusantara Permai Pratama Santosa Persada Abadi Makmur "
               "Lancar Sukses Mulia Megah Raya"), 0.55),
        (_w(
"Logistik Teknik Elektronik Konstruksi Farma Plastik Tekstil Trading Indonesia "
               "International Engineering Solusi Kimia Pangan Motor Digital Energi Properti Steel "
               "Packaging Services Manufacturing"), 0.35),
    ),
    "EN": (
        (_EN_FIRST, 1.0),
        (_w(
"Pacific Coastal National United Advanced Premier Global Metro Allied Integrated "
               "Central Royal Capital Regional Precision Creative Strategic Modern Classic "
               "Quality Total First Prime Summit"), 0.3),
        (("Logistics", "Engineering", "Construction", "Consulting", "Services", "Manufacturing",
          "Industries", "Systems", "Solutions", "Technologies", "Supplies", "Foods", "Trading",
          "Plumbing", "Electrical", "Transport", "Freight", "Packaging", "Print", "Media", "Health",
          "Pharmaceuticals", "Energy", "Mining", "Agriculture", "Retail", "Distribution",
          "Properties", "Brothers", "& Sons", "and Partners", "Software", "Analytics", "Marine",
          "Automotive", "Steel", "Timber", "Café", "Management", "Security"), 1.0),
        (("International", "Group", "Holdings", "Worldwide", "Enterprises", "Trading"), 0.2),
    ),
    "DE": (
        (_w(
"Bayerische Hamburger Rheinische Sächsische Westfälische Berliner Allgäuer "
               "Schwäbische Fränkische Gebrüder"), 0.12),
        (_DE_FIRST, 1.0),
        (_w(
"Maschinenbau Logistik Elektrotechnik Bau Haustechnik Metallbau Verpackung "
               "Druckerei Software Beratung Handel Spedition Anlagenbau Feinmechanik "
               "Kunststofftechnik Automation Medizintechnik Gebäudereinigung Immobilien Energie "
               "Systemtechnik Werkzeugbau Lebensmittel Getränke Holzbau"), 1.0),
        (("Süd", "Nord", "West", "Ost", "International", "Service", "Deutschland", "Vertrieb",
          "Technik", "Systeme", "& Söhne", "und Partner"), 0.25),
    ),
}  # fmt: skip
NAME_FAMILY = {"ID": "ID", "AU": "EN", "NZ": "EN", "US": "EN", "GB": "EN", "DE": "DE"}

# Words a near-identical twin changes (a different company whose name differs by one word form).
NEAR_TWINS = {
    "Logistics": "Logistic", "Services": "Service", "Systems": "System", "Solutions": "Solution",
    "Supplies": "Supply", "Industries": "Industry", "Technologies": "Technology",
    "Meyer": "Meier", "Schmidt": "Schmitt", "Müller": "Möller", "Sentosa": "Sentausa",
    "Makmur": "Makmoer", "Jaya": "Djaja", "Sejahtera": "Sejahtra", "Hoffmann": "Hofmann",
}  # fmt: skip

# Abbreviations applied to some records (regex, replacement).
ABBREVIATIONS = (
    (r"\bInternational\b", "Intl"), (r"\bCorporation\b", "Corp"), (r"\bServices\b", "Svcs"),
    (r"\bManufacturing\b", "Mfg"), (r"\bBrothers\b", "Bros"), (r"\bCompany\b", "Co"),
    (r"\bEngineering\b", "Eng"), (r"\bTechnologies\b", "Tech"), (r"\bDistribution\b", "Dist"),
    (r"\bManagement\b", "Mgmt"), (r"\bIndustries\b", "Inds"), (r" & ", " and "),
    (r"\bGebrüder\b", "Gebr."), (r"\bIndonesia\b", "Indo"), (r"\bLimited\b", "Ltd"),
)  # fmt: skip
AND_TO_AMPERSAND = (r" and ", " & ")

# Legal forms per country: (code, weight, ((prefix, suffix, weight), ...)).
# A record may also leave the legal form out.
LEGAL_FORMS = {
    "ID": (
        ("PT", 70, (("PT ", "", 50), ("PT. ", "", 25), ("", ", PT", 12), ("", " PT", 5),
                    ("P.T. ", "", 8))),
        ("PT Tbk", 4, (("PT ", " Tbk", 40), ("PT ", " Tbk.", 20), ("", " Tbk", 15),
                       ("", ", PT Tbk", 10), ("PT. ", " TBK", 15))),
        ("CV", 18, (("CV ", "", 50), ("CV. ", "", 30), ("", ", CV", 15), ("C.V. ", "", 5))),
        ("UD", 8, (("UD ", "", 50), ("UD. ", "", 35), ("U.D. ", "", 15))),
    ),
    "AU": (
        ("Pty Ltd", 88, (("", " Pty Ltd", 45), ("", " Pty. Ltd.", 20), ("", " Pty Limited", 12),
                         ("", " Pty. Limited", 8), ("", " PTY LTD", 8),
                         ("", " Proprietary Limited", 3), ("", " P/L", 4))),
        ("Ltd", 12, (("", " Limited", 50), ("", " Ltd", 40), ("", " Ltd.", 10))),
    ),
    "NZ": (("Ltd", 100, (("", " Limited", 55), ("", " Ltd", 35), ("", " Ltd.", 10))),),
    "US": (
        ("Inc", 35, (("", " Inc.", 40), ("", ", Inc.", 25), ("", " Inc", 20),
                     ("", " Incorporated", 10), ("", ", Inc", 5))),
        ("LLC", 40, (("", " LLC", 60), ("", ", LLC", 25), ("", " L.L.C.", 10), ("", " Llc", 5))),
        ("Corp", 15, (("", " Corp.", 40), ("", " Corporation", 35), ("", " Corp", 25))),
        ("Co", 10, (("", " Co.", 50), ("", " Company", 50))),
    ),
    "GB": (
        ("Ltd", 80, (("", " Ltd", 50), ("", " Limited", 40), ("", " Ltd.", 10))),
        ("PLC", 8, (("", " PLC", 50), ("", " plc", 40), ("", " Public Limited Company", 10))),
        ("LLP", 12, (("", " LLP", 90), ("", " L.L.P.", 10))),
    ),
    "DE": (
        ("GmbH", 70, (("", " GmbH", 85), ("", " G.m.b.H.", 5), ("", " Gmbh", 5),
                      ("", " GMBH", 5))),
        ("GmbH & Co. KG", 12, (("", " GmbH & Co. KG", 60), ("", " GmbH & Co KG", 25),
                               ("", " GmbH u. Co. KG", 10), ("", " GmbH + Co. KG", 5))),
        ("AG", 6, (("", " AG", 90), ("", " Aktiengesellschaft", 10))),
        ("KG", 4, (("", " KG", 100),)),
        ("e.K.", 5, (("", " e.K.", 70), ("", " e. K.", 20), ("", " e.Kfm.", 10))),
        ("UG", 3, (("", " UG (haftungsbeschränkt)", 60), ("", " UG", 40))),
    ),
}  # fmt: skip

# Letters written another way: (character, transliteration, plain letter).
DIACRITICS = (("ü", "ue", "u"), ("ö", "oe", "o"), ("ä", "ae", "a"), ("ß", "ss", "ss"),
              ("é", "e", "e"), ("Ü", "Ue", "U"), ("Ö", "Oe", "O"), ("Ä", "Ae", "A"))  # fmt: skip

# --- web and e-mail ----------------------------------------------------------------------------
DOMAIN_SUFFIXES = {
    "ID": ((".co.id", 70), (".com", 20), (".id", 10)),
    "AU": ((".com.au", 85), (".com", 15)),
    "NZ": ((".co.nz", 85), (".com", 10), (".nz", 5)),
    "US": ((".com", 88), (".net", 6), (".us", 3), (".io", 3)),
    "GB": ((".co.uk", 80), (".com", 15), (".uk", 5)),
    "DE": ((".de", 90), (".com", 10)),
}
FREEMAIL = {
    "ID": (("gmail.com", 55), ("yahoo.co.id", 25), ("yahoo.com", 15), ("hotmail.com", 5)),
    "AU": (("bigpond.com", 35), ("gmail.com", 35), ("outlook.com", 15), ("hotmail.com", 15)),
    "NZ": (("xtra.co.nz", 40), ("gmail.com", 40), ("outlook.com", 20)),
    "US": (("gmail.com", 50), ("yahoo.com", 20), ("outlook.com", 15), ("aol.com", 5),
           ("hotmail.com", 10)),
    "GB": (("gmail.com", 40), ("hotmail.co.uk", 20), ("btinternet.com", 20), ("outlook.com", 20)),
    "DE": (("gmx.de", 35), ("web.de", 30), ("t-online.de", 20), ("gmail.com", 15)),
}  # fmt: skip
MAIL_LOCAL = {
    "ID": ("info", "finance", "keuangan", "admin", "sales", "purchasing", "accounting"),
    "AU": ("accounts", "info", "admin", "finance", "ap", "accounts.payable", "office"),
    "NZ": ("accounts", "info", "admin", "finance", "ap", "office"),
    "US": ("ap", "billing", "info", "accounting", "finance", "office", "accountspayable"),
    "GB": ("accounts", "info", "finance", "admin", "purchase.ledger", "office"),
    "DE": ("info", "buchhaltung", "rechnung", "kontakt", "office", "einkauf"),
}
PERSON_NAMES = {
    "ID": ("budi.santoso", "dewi.lestari", "agus.wijaya", "siti.rahma", "hendra.gunawan",
           "rina.susanti", "andi.pratama", "yuli.handayani"),
    "EN": ("john.smith", "sarah.jones", "mike.brown", "emma.wilson", "david.taylor",
           "kate.martin", "chris.lee", "lisa.white"),
    "DE": ("thomas.mueller", "sabine.schmidt", "michael.weber", "petra.fischer",
           "stefan.wagner", "julia.becker", "andreas.klein", "claudia.wolf"),
}  # fmt: skip
# Website spellings: (prefix, suffix) around the bare domain.
WEBSITE_FORMS = (("https://www.", "/", 30), ("http://www.", "", 15), ("www.", "", 20), ("", "", 10),
                 ("https://", "", 10), ("http://", "/about", 5), ("https://www.", "/contact-us", 5),
                 ("https://www.", "/en/", 5))  # fmt: skip

# --- addresses ------------------------------------------------------------------------------------
_ID_STREETS = tuple(
    tuple(line.split("|"))
    for line in """
Jend. Sudirman|Jenderal Sudirman
M.H. Thamrin|Mohammad Husni Thamrin
Jend. Gatot Subroto|Jenderal Gatot Subroto
H.R. Rasuna Said|Haji Rasuna Said
Jend. Ahmad Yani|Jenderal Ahmad Yani
Letjen S. Parman|Letnan Jenderal S. Parman
Prof. Dr. Satrio|Profesor Doktor Satrio
Dr. Sutomo|Dokter Sutomo
KH. Wahid Hasyim|Kyai Haji Wahid Hasyim
Gajah Mada
Hayam Wuruk
Pemuda
Diponegoro
Asia Afrika
Raya Darmo
Basuki Rahmat
Pahlawan
Merdeka
Kyai Tapa
Mangga Dua Raya
Panglima Polim
Kebon Jeruk
Pluit Raya
Industri Raya
Rungkut Industri
Veteran
Imam Bonjol
Pangeran Jayakarta
Tanjung Pura
Sisingamangaraja
""".strip().splitlines()
)
_ID_PREFIXES = ("Jl. ", "Jalan ", "Jl.", "Jln. ", "JL. ")
_EN_TYPES = {
    "AU": (("Street", "St", "St."), ("Road", "Rd"), ("Avenue", "Ave"), ("Parade", "Pde"),
           ("Terrace", "Tce"), ("Drive", "Dr"), ("Lane", "Ln"), ("Place", "Pl"),
           ("Highway", "Hwy"), ("Circuit", "Cct")),
    "NZ": (("Street", "St", "St."), ("Road", "Rd"), ("Avenue", "Ave"), ("Terrace", "Tce"),
           ("Drive", "Dr"), ("Place", "Pl"), ("Crescent", "Cres")),
    "US": (("Street", "St", "St."), ("Avenue", "Ave", "Ave."), ("Boulevard", "Blvd"),
           ("Road", "Rd"), ("Drive", "Dr"), ("Lane", "Ln"), ("Court", "Ct"), ("Parkway", "Pkwy"),
           ("Highway", "Hwy")),
    "GB": (("Street", "St"), ("Road", "Rd"), ("Lane", "Ln"), ("Avenue", "Ave"), ("Way",),
           ("Place", "Pl"), ("Square", "Sq"), ("Close", "Cl"), ("Crescent", "Cres")),
}  # fmt: skip
_EN_NAMES = {
    "AU": "George Pitt King Queen Collins Elizabeth Victoria Church Station Market Bridge Hunter "
    "Bourke Flinders Adelaide Ann Albert William Murray Hay Wellington Harbour Beach Chapel Swan",
    "NZ": "Queen Victoria Albert Lambton Cuba Willis Ponsonby Karangahape Colombo Cashel Hereford "
    "George Princes Great North Dominion Khyber Pass Riccarton Tory Featherston",
    "US": "Main Oak Maple Cedar Elm Washington Lincoln Franklin Jefferson Madison Park Lake Hill "
    "Market Broad Walnut Spruce Pine Sunset Mission Grand Commerce Industrial Harbor Ridge",
    "GB": "High Church Station Victoria Mill Bridge Market Park London Oxford Regent Baker Fleet "
    "Castle Queen King Commercial Wellington Princes Cheapside Deansgate Corporation Albion",
}
_DE_STEMS = _w(
    "Haupt Bahnhof Schul Garten Kirch Berg Wald Ring Linden Industrie Gewerbe Schiller Goethe "
    "Mozart Friedrich Wilhelm Kaiser König Markt Post Mühlen Brunnen Rosen Kant Beethoven Hafen "
    "Dorf Feld Sonnen Birken"
)
_DE_ADJECTIVAL = _w("Berliner Hamburger Münchner Frankfurter Kölner Leipziger Dresdner Bremer")


def _streets() -> dict[str, tuple[tuple[str, ...], ...]]:
    out: dict[str, tuple[tuple[str, ...], ...]] = {}
    id_streets = []
    for forms in _ID_STREETS:
        spellings = [p + f for f in forms for p in _ID_PREFIXES]
        id_streets.append((spellings[0], *dict.fromkeys(spellings[1:])))
    out["ID"] = tuple(id_streets)
    for country, names in _EN_NAMES.items():
        out[country] = tuple(
            tuple(f"{name} {t}" for t in types)
            for name in names.split()
            for types in _EN_TYPES[country]
        )
    de: list[tuple[str, ...]] = [
        (s + "straße", s + "str.", s + "strasse", s + "str") for s in _DE_STEMS
    ]
    de += [(s + "weg",) for s in _DE_STEMS[:12]] + [(s + "allee",) for s in _DE_STEMS[8:14]]
    de += [(f"{a} Straße", f"{a} Str.", f"{a} Strasse") for a in _DE_ADJECTIVAL]
    de += [(f"Am {s}markt",) for s in ("Holz", "Fisch", "Heu")] + [("Marktplatz", "Marktpl.")]
    out["DE"] = tuple(de)
    return out


STREETS = _streets()
STREET_NUMBER_MAX = {"ID": 250, "AU": 400, "NZ": 300, "US": 9800, "GB": 250, "DE": 180}
# How the house number is written in Indonesia: (prefix, weight).
ID_NUMBER_FORMS = (("No. ", 45), ("No.", 20), ("", 20), ("Kav. ", 8), ("No ", 7))
# Unit / floor / suite spellings: (kind, before or after the street line, ((pre, post, w), ...)).
UNIT_FORMS = {
    "ID": (("floor", "after", ((", Lt. ", "", 50), (" Lantai ", "", 30), (", Lt.", "", 20))),),
    "AU": (("unit", "before", (("Unit ", ", ", 50), ("", "/", 35), ("U", "/", 15))),
           ("level", "before", (("Level ", ", ", 60), ("Lvl ", ", ", 25), ("L", ", ", 15))),
           ("suite", "before", (("Suite ", ", ", 70), ("Ste ", ", ", 30)))),
    "NZ": (("unit", "before", (("Unit ", ", ", 50), ("", "/", 50))),
           ("level", "before", (("Level ", ", ", 70), ("Lvl ", ", ", 30)))),
    "US": (("suite", "after", ((", Suite ", "", 45), (" Ste ", "", 25), (" #", "", 20),
                               (", Ste. ", "", 10))),
           ("floor", "after", ((", Floor ", "", 60), (", Fl ", "", 40)))),
    "GB": (("unit", "before", (("Unit ", ", ", 80), ("Unit ", " ", 20))),
           ("suite", "before", (("Suite ", ", ", 100),)),
           ("floor", "before", (("Floor ", ", ", 60), ("Flr ", ", ", 40)))),
    "DE": (),
}  # fmt: skip
GB_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

# Cities, one a line: spellings; region spellings; postcodes; phone area codes; subscriber digits;
# weight; first digits of local numbers (default 2-9). Postcodes are a numeric range or, for the UK,
# outward codes.
_CITIES = {
    "ID": """
Jakarta Selatan|Jakarta|Jakarta Sel.|South Jakarta; DKI Jakarta|Jakarta; 12110-12950; 21; 8; 14
Jakarta Pusat|Jakarta|Jakarta Pst|Central Jakarta; DKI Jakarta|Jakarta; 10110-10730; 21; 8; 10
Jakarta Barat|Jakarta|West Jakarta; DKI Jakarta|Jakarta; 11110-11850; 21; 8; 8
Jakarta Utara|Jakarta|North Jakarta; DKI Jakarta|Jakarta; 14110-14450; 21; 8; 6
Tangerang|Kota Tangerang; Banten; 15110-15159; 21; 8; 6
Bekasi|Kota Bekasi; Jawa Barat|West Java|Jabar; 17111-17156; 21; 8; 5
Surabaya|Kota Surabaya|Sby; Jawa Timur|East Java|Jatim; 60111-60299; 31; 7; 12
Bandung|Kota Bandung; Jawa Barat|West Java|Jabar; 40111-40295; 22; 7; 8
Medan|Kota Medan; Sumatera Utara|North Sumatra|Sumut; 20111-20239; 61; 7; 7
Semarang|Kota Semarang; Jawa Tengah|Central Java|Jateng; 50111-50275; 24; 7; 5
Makassar|Kota Makassar; Sulawesi Selatan|South Sulawesi|Sulsel; 90111-90245; 411; 6; 4
Denpasar|Kota Denpasar; Bali; 80111-80239; 361; 6; 3
Yogyakarta|Jogja|Kota Yogyakarta; DI Yogyakarta|Yogyakarta|DIY; 55111-55294; 274; 6; 3
Palembang; Sumatera Selatan|South Sumatra|Sumsel; 30111-30164; 711; 6; 3
Balikpapan; Kalimantan Timur|East Kalimantan|Kaltim; 76111-76136; 542; 6; 2
""",
    "AU": """
Sydney; NSW|New South Wales|N.S.W.; 2000-2234; 2; 8; 30; 89
Melbourne; VIC|Victoria|Vic; 3000-3207; 3; 8; 26; 89
Brisbane; QLD|Queensland|Qld; 4000-4179; 7; 8; 14; 3
Perth; WA|Western Australia; 6000-6199; 8; 8; 10; 9
Adelaide; SA|South Australia; 5000-5199; 8; 8; 7; 8
Canberra; ACT|Australian Capital Territory; 2600-2617; 2; 8; 4; 26
Gold Coast; QLD|Queensland; 4207-4230; 7; 8; 4; 5
Newcastle; NSW|New South Wales; 2289-2300; 2; 8; 3; 2
Hobart; TAS|Tasmania; 7000-7055; 3; 8; 2; 2
Darwin; NT|Northern Territory; 800-832; 8; 8; 1; 8
""",
    "NZ": """
Auckland; Auckland; 1010-2699; 9; 7; 40; 345689
Wellington; Wellington; 6011-6037; 4; 7; 18; 34589
Christchurch|Chch; Canterbury; 8011-8083; 3; 7; 15; 34579
Hamilton; Waikato; 3200-3216; 7; 7; 8; 3458
Tauranga; Bay of Plenty|BOP; 3110-3116; 7; 7; 6; 57
Dunedin; Otago; 9010-9016; 3; 7; 5; 3457
Napier; Hawke's Bay|Hawkes Bay; 4110-4112; 6; 7; 4; 835
Palmerston North; Manawatū-Whanganui|Manawatu-Wanganui|Manawatu; 4410-4414; 6; 7; 4; 35
""",
    "US": """
New York|New York City|NYC; NY|New York|N.Y.; 10001-10282; 212 646 917 332; 7; 16
Brooklyn; NY|New York; 11201-11256; 718 347; 7; 4
Los Angeles|LA; CA|California|Calif.; 90001-90089; 213 323 310; 7; 10
San Francisco|SF; CA|California; 94102-94134; 415 628; 7; 6
Chicago; IL|Illinois; 60601-60661; 312 773 872; 7; 8
Houston; TX|Texas; 77001-77099; 713 281 832; 7; 7
Dallas; TX|Texas; 75201-75254; 214 469 972; 7; 6
Austin; TX|Texas; 78701-78759; 512 737; 7; 4
Seattle; WA|Washington; 98101-98199; 206; 7; 5
Boston; MA|Massachusetts|Mass.; 2108-2137; 617 857; 7; 5
Atlanta; GA|Georgia; 30301-30361; 404 678 470; 7; 5
Miami; FL|Florida|Fla.; 33101-33199; 305 786; 7; 5
Denver; CO|Colorado; 80201-80239; 303 720; 7; 4
Phoenix; AZ|Arizona; 85001-85054; 602 480; 7; 4
Philadelphia; PA|Pennsylvania; 19102-19154; 215 267; 7; 4
Newark; NJ|New Jersey; 7101-7199; 973; 7; 2
Minneapolis; MN|Minnesota; 55401-55488; 612; 7; 3
Portland; OR|Oregon; 97201-97299; 503 971; 7; 3
""",
    "GB": """
London; Greater London|London; EC1A EC2M EC4M WC1B WC2H SW1A SE1 E1 E14 N1 NW1 W1T; 20; 8; 40; 378
Manchester; Greater Manchester; M1 M2 M3 M4 M15 M50; 161; 7; 10; 234
Birmingham; West Midlands; B1 B2 B3 B4 B5 B15; 121; 7; 9; 234567
Leeds; West Yorkshire; LS1 LS2 LS10 LS11; 113; 7; 6; 2345
Glasgow; Glasgow City|Scotland; G1 G2 G3 G4; 141; 7; 6; 23456
Edinburgh; City of Edinburgh|Scotland; EH1 EH2 EH3 EH6; 131; 7; 5; 234567
Bristol; Bristol|Avon; BS1 BS2 BS8; 117; 7; 6; 2349
Liverpool; Merseyside; L1 L2 L3; 151; 7; 5; 2345
Cardiff; Cardiff|Wales|South Glamorgan; CF10 CF11 CF24; 29; 8; 4; 2
Reading; Berkshire; RG1 RG2; 118; 7; 4; 2349
Cambridge; Cambridgeshire|Cambs; CB1 CB2 CB4; 1223; 6; 5; 234567
""",
    "DE": """
Berlin; Berlin|BE; 10115-14199; 30; 8; 20
Hamburg; Hamburg|HH; 20095-22769; 40; 8; 14
München|Muenchen|Munich|Munchen; Bayern|BY|Bavaria; 80331-81929; 89; 8; 14
Köln|Koeln|Cologne|Koln; Nordrhein-Westfalen|NRW|NW; 50667-51149; 221; 7; 9
Frankfurt am Main|Frankfurt|Frankfurt a.M.; Hessen|HE|Hesse; 60306-60599; 69; 8; 9
Stuttgart; Baden-Württemberg|BW|Baden-Wuerttemberg; 70173-70619; 711; 7; 8
Düsseldorf|Duesseldorf|Dusseldorf; Nordrhein-Westfalen|NRW; 40210-40629; 211; 7; 7
Leipzig; Sachsen|SN|Saxony; 4103-4357; 341; 7; 5
Dresden; Sachsen|SN|Saxony; 1067-1328; 351; 7; 4
Hannover|Hanover; Niedersachsen|NI|Lower Saxony; 30159-30669; 511; 7; 5
Nürnberg|Nuernberg|Nuremberg; Bayern|BY; 90402-90491; 911; 7; 4
Bremen; Bremen|HB; 28195-28779; 421; 7; 3
""",
}


def _parse_cities(text: str) -> tuple[City, ...]:
    cities = []
    for line in text.strip().splitlines():
        fields = [f.strip() for f in line.split(";")]
        names, regions, postcodes, areas, digits, weight = fields[:6]
        leads = fields[6] if len(fields) > 6 else "23456789"
        lo, _, hi = postcodes.partition("-")
        cities.append(
            City(
                tuple(names.split("|")),
                tuple(regions.split("|")),
                (int(lo), int(hi)) if hi else None,
                tuple(postcodes.split()) if not hi else (),
                tuple(areas.split()),
                int(digits),
                float(weight),
                leads,
            )
        )
    return tuple(cities)


class City(NamedTuple):
    names: tuple[str, ...]
    regions: tuple[str, ...]
    postcode_range: tuple[int, int] | None
    outward_codes: tuple[str, ...]
    area_codes: tuple[str, ...]
    subscriber_digits: int
    weight: float
    leads: str


CITIES = {country: _parse_cities(text) for country, text in _CITIES.items()}
POSTCODE_WIDTH = {"ID": 5, "AU": 4, "NZ": 4, "US": 5, "DE": 5}

# --- phones ---------------------------------------------------------------------------------------
PHONE_CC = {"ID": "62", "AU": "61", "NZ": "64", "US": "1", "GB": "44", "DE": "49"}
# Mobile prefixes and subscriber digits after them.
MOBILE = {
    "ID": (("812", "813", "821", "852", "857", "878"), 8),
    "AU": (("412", "413", "423", "438", "447", "478"), 6),
    "NZ": (("21", "22", "27"), 7),
    "US": ((), 0),
    "GB": (("7481", "7340", "7723", "7827", "7956"), 6),
    "DE": (("151", "160", "170", "171", "176"), 8),
}
MOBILE_SHARE = {"ID": 0.25, "AU": 0.08, "NZ": 0.08, "US": 0.0, "GB": 0.06, "DE": 0.05}
# Phone spellings, (template, weight): {cc} country code, {area} area code, {a} the subscriber
# number without its last four digits, {b} those four digits; other text is literal.
PHONE_FORMS = {
    "ID": (("+{cc} {area} {a}{b}", 30), ("0{area}-{a}{b}", 30), ("(0{area}) {a}{b}", 15),
           ("0{area} {a} {b}", 10), ("+{cc}{area}{a}{b}", 10), ("{cc}{area}{a}{b}", 5)),
    "AU": (("(0{area}) {a} {b}", 35), ("+{cc} {area} {a} {b}", 30), ("0{area} {a} {b}", 20),
           ("0{area}{a}{b}", 10), ("+{cc}{area}{a}{b}", 5)),
    "NZ": (("(0{area}) {a} {b}", 35), ("+{cc} {area} {a} {b}", 30), ("0{area}-{a} {b}", 20),
           ("0{area}{a}{b}", 15)),
    "US": (("({area}) {a}-{b}", 40), ("{area}-{a}-{b}", 25), ("+{cc} {area} {a} {b}", 10),
           ("{area}.{a}.{b}", 10), ("+{cc} ({area}) {a}-{b}", 5), ("{area}{a}{b}", 5),
           ("{cc}-{area}-{a}-{b}", 5)),
    "GB": (("0{area} {a} {b}", 45), ("+{cc} {area} {a} {b}", 30), ("+{cc} (0){area} {a} {b}", 15),
           ("0{area}{a}{b}", 10)),
    "DE": (("0{area} {a}{b}", 35), ("+{cc} {area} {a}{b}", 25), ("0{area}/{a}{b}", 20),
           ("+{cc} (0){area} {a}{b}", 10), ("0{area}-{a}{b}", 10)),
}  # fmt: skip

# --- tax ids --------------------------------------------------------------------------------------
# Spellings as (template, weight): each "#" takes the next digit of the id; other text is literal.
TAX_FORMS = {
    "ID": (("##.###.###.#-###.###", 50), ("###############", 25), ("0###############", 25)),
    "AU": (("## ### ### ###", 50), ("###########", 35), ("ABN ## ### ### ###", 10),
           ("##-###-###-###", 5)),
    "NZ": (("#############", 85), ("NZBN #############", 10), ("#### #### #####", 5)),
    "US": (("##-#######", 70), ("#########", 25), ("EIN ##-#######", 5)),
    "GB": (("GB#########", 50), ("GB ### #### ##", 25), ("#########", 15), ("GB### #### ##", 10)),
    "DE": (("DE#########", 65), ("DE #########", 20), ("DE ### ### ###", 10),
           ("de#########", 5)),
}  # fmt: skip
TAX_DIGITS = {"ID": 15, "AU": 11, "NZ": 13, "US": 9, "GB": 9, "DE": 9}
EIN_PREFIXES = (10, 12, 20, 26, 27, 30, 35, 45, 46, 47, 51, 52, 54, 61, 71, 81, 84, 91, 93, 98)

# --- CRM and ERP ----------------------------------------------------------------------------------
# Sales reps and the countries they cover.
OWNERS = {
    "ID": ("Budi Santoso", "Dewi Lestari", "Ahmad Fauzi"),
    "AU": ("Michael O'Brien", "Olivia Brown", "Sarah Chen"),
    "NZ": ("Olivia Brown", "Sarah Chen"),
    "US": ("James Wilson", "Daniel Kim", "Priya Sharma"),
    "GB": ("Emma Thompson", "Priya Sharma"),
    "DE": ("Lukas Becker", "Anna Schmidt"),
}
PRODUCTS = ("Annual subscription", "Renewal", "Implementation", "Expansion", "Pilot",
            "Support contract", "Hardware refresh", "Training", "Upgrade", "New logo",
            "Professional services", "Add-on licences")  # fmt: skip
OPEN_STAGES = ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
               "decisionmakerboughtin", "contractsent")  # fmt: skip
PAYMENT_TERMS = (("Net 30", 30, 75), ("Net 15", 15, 8), ("Net 45", 45, 7), ("Net 60", 60, 5),
                 ("Due on receipt", 0, 5))  # fmt: skip
DEAL_REF_FORMS = (("HS-", "", 30), ("Deal #", "", 20), ("CRM:", " / PO ", 15), ("", "", 20),
                  ("HubSpot ", "", 10), ("deal ", "", 5))  # fmt: skip

# --- name habits (see name_habits) ----------------------------------------------------------------
# Legal forms written out in full, as old ERPs and registries hold them: code → (before, after).
LEGAL_FORMS_SPELLED = {
    "ID:PT": ("Perseroan Terbatas ", ""), "ID:PT Tbk": ("Perseroan Terbatas ", " Terbuka"),
    "ID:CV": ("Commanditaire Vennootschap ", ""), "ID:UD": ("Usaha Dagang ", ""),
    "AU:Pty Ltd": ("", " Proprietary Limited"), "AU:Ltd": ("", " Limited"),
    "NZ:Ltd": ("", " Limited"),
    "US:Inc": ("", " Incorporated"), "US:LLC": ("", " Limited Liability Company"),
    "US:Corp": ("", " Corporation"), "US:Co": ("", " Company"),
    "GB:Ltd": ("", " Limited"), "GB:PLC": ("", " Public Limited Company"),
    "GB:LLP": ("", " Limited Liability Partnership"),
    "DE:GmbH": ("", " Gesellschaft mit beschränkter Haftung"),
    "DE:GmbH & Co. KG": ("", " Gesellschaft mit beschränkter Haftung & Compagnie "
                             "Kommanditgesellschaft"),
    "DE:AG": ("", " Aktiengesellschaft"), "DE:KG": ("", " Kommanditgesellschaft"),
    "DE:e.K.": ("", " eingetragener Kaufmann"),
    "DE:UG": ("", " Unternehmergesellschaft (haftungsbeschränkt)"),
}  # fmt: skip
# What ERP users type on a duplicate customer's name: (before, after, weight).
DUPLICATE_MARKERS = (("*DUPLICATE* ", "", 15), ("", " (OLD)", 15), ("ZZ ", "", 15),
                     ("", " - 2", 10), ("", " (USD)", 8), ("", " DO NOT USE", 10),
                     ("DO NOT USE - ", "", 5), ("", " *DUP*", 5), ("XX ", "", 5),
                     ("", " (INACTIVE)", 7), ("ZZZ-", "", 5))  # fmt: skip
# Trading, trustee and doing-business-as names the ERP holds: (template, weight); {name} is the
# name the company trades under (its CRM name), {first} its first word, {holder} the legal owner,
# {person} a sole trader.
TRADING_FORMS = {
    "ID": (("PT {holder} ({name})", 50), ("{name} - PT {holder}", 30),
           ("CV {holder} qq {name}", 20)),
    "AU": (("{holder} Nominees Pty Ltd T/A {name}", 30), ("{holder} Pty Ltd T/A {name}", 25),
           ("{name} Pty Ltd ATF {first} Family Trust", 25),
           ("The Trustee for {first} Family Trust T/A {name}", 10),
           ("{holder} Holdings Pty Ltd ATF {holder} Unit Trust T/A {name}", 10)),
    "NZ": (("{holder} Limited T/A {name}", 50), ("{holder} Holdings Ltd t/a {name}", 30),
           ("{name} Ltd ATF {first} Family Trust", 20)),
    "US": (("{holder} LLC DBA {name}", 45), ("{holder} Inc. d/b/a {name}", 30),
           ("{holder} Holdings LLC dba {name}", 25)),
    "GB": (("{holder} Ltd T/A {name}", 50), ("{holder} Limited t/a {name}", 30),
           ("{person} T/A {name}", 20)),
    "DE": (("{name} e.K. Inh. {person}", 50), ("{holder} GmbH - {name}", 30),
           ("{holder} Holding GmbH, Geschäftsbereich {name}", 20)),
}  # fmt: skip
# Owners' surnames, coined so that they are found in no base name and seldom repeat: an onset,
# a vowel and an ending of the family's ("Bramford", "Tessmann", "Kalunas"); EN owners often
# have two ("Woodland Elmdale Nominees").
HOLDER_ONSETS = ("B", "C", "D", "F", "G", "H", "K", "L", "M", "N", "P", "R", "S", "T", "W", "Br",
                 "Cr", "Gl", "St", "Tr")  # fmt: skip
HOLDER_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "ou")
HOLDER_ENDINGS = {
    "EN": ("mford", "dwell", "lwood", "rton", "dley", "nby", "sham", "tmore", "rfield", "nstead",
           "lcombe", "rshaw", "kdale", "ngate"),
    "DE": ("ssmann", "rtner", "lhardt", "ninger", "rbach", "nstein", "lberg", "kowski", "ssler",
           "rmann"),
    "ID": ("rjaya", "nata", "wijaya", "sastra", "ndra", "rmadi", "kusuma", "hardja", "ntoro",
           "nugraha"),
}  # fmt: skip
# Trade names unrelated to the legal name: a coined word (onset, vowel, onset, vowel, ending)
# and a kind of business; 409,600 of them, drawn without repeats where they suffice.
BRAND_ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "tr")
BRAND_VOWELS = ("a", "e", "i", "o", "u")
BRAND_ENDINGS = ("", "n", "x", "s")
BRAND_KINDS = ("Laboratories", "Studio", "Collective", "Kitchen", "Co.", "Labs", "Works", "House",
               "Goods", "Outfitters", "Interiors", "Academy", "Clinic", "Roasters", "Living",
               "Wellness")  # fmt: skip
# How a branch's record names its city after the legal form: (before, after the city, weight).
BRANCH_FORMS = ((" - ", "", 50), (" (", ")", 25), (" ", " Branch", 15), (" - ", " Office", 10))
