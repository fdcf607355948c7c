"""Fixed vocabularies and code tables for the generated catalogue.

Kept apart from the generator so the data's realism (imprints, stages, ONIX and subject codes) can be
read and corrected in one place. Every table is a tuple: generated records share these objects.
"""

from __future__ import annotations

# The fixed, ordered project stages a work moves through (position = index + 1).
PROJECT_STAGES = (
    "Acquisition",
    "Contracted",
    "Writing",
    "Manuscript delivered",
    "Editorial",
    "Copy-editing",
    "Typesetting",
    "Proofs",
    "Production",
    "Published",
)

IMPRINTS = ("Harrow & Finch", "Blackwater Press", "Lantern Books", "Kestrel Editions", "Wren Children's", "Northlight")
MARKETING_TIERS = ("Lead", "Key", "Core", "Standard")
WORK_TYPES = ("Fiction", "Non-fiction", "Children's", "Poetry")

# Formats: key -> (__typename, ONIX 2.1 form code, in-house format name, code, edition name, edition code)
FORMATS = {
    "hardback": ("PhysicalBookProduct", "BB", "Hardback", "HB", "Royal hardback", "RHB"),
    "paperback": ("PhysicalBookProduct", "BC", "Paperback", "PB", "B-format paperback", "BPB"),
    "ebook": ("DigitalProduct", "DG", "Ebook", "EB", "EPUB", "EPUB"),
    "audiobook": ("AudioProduct", "AJ", "Audiobook", "AU", "Unabridged download", "UAD"),
}
# Trim sizes in millimetres (height, width) per physical format.
TRIM_SIZES = {"hardback": ((234, 153), (240, 159), (216, 138)), "paperback": ((198, 129), (178, 111), (234, 153))}

ONIX21_PRODUCT_FORMS = {
    "AA": "Audio",
    "AB": "Audio cassette",
    "AC": "CD-Audio",
    "AJ": "Downloadable audio file",
    "BA": "Book",
    "BB": "Hardback",
    "BC": "Paperback / softback",
    "BE": "Spiral bound",
    "BH": "Board book",
    "DA": "Digital",
    "DG": "Electronic book text",
    "DH": "Electronic book text in proprietary or open standard format",
}
ONIX_PUBLISHING_STATUSES = {
    "00": "Unspecified",
    "01": "Cancelled",
    "02": "Forthcoming",
    "03": "Postponed indefinitely",
    "04": "Active",
    "05": "No longer our product",
    "06": "Out of stock indefinitely",
    "07": "Out of print",
    "08": "Inactive",
    "09": "Unknown",
    "10": "Remaindered",
    "11": "Withdrawn from sale",
    "12": "Recalled",
    "13": "Active, but not sold separately",
    "15": "Recalled",
    "16": "Temporarily withdrawn from sale",
    "17": "Permanently withdrawn from sale",
}
DEPRECATED_STATUSES = frozenset({"03", "10", "11", "12"})

# Recommended retail prices per format: (GBP incl. tax, USD excl. tax) price points.
PRICE_POINTS = {
    "hardback": ((16.99, 27.00), (18.99, 28.99), (20.00, 30.00), (22.00, 32.00), (25.00, 35.00)),
    "paperback": ((8.99, 17.00), (9.99, 17.99), (10.99, 18.99), (12.99, 18.00)),
    "ebook": ((4.99, 9.99), (6.99, 12.99), (7.99, 14.99), (0.99, 1.99)),
    "audiobook": ((14.99, 24.99), (19.99, 29.99), (24.99, 34.99)),
}

# Subjects: (code, description, Thema parent). BISAC and BIC have no parent.
BISAC = (
    ("FIC000000", "FICTION / General", None),
    ("FIC009000", "FICTION / Fantasy / General", None),
    ("FIC022000", "FICTION / Mystery & Detective / General", None),
    ("FIC014000", "FICTION / Historical / General", None),
    ("FIC028000", "FICTION / Science Fiction / General", None),
    ("FIC031000", "FICTION / Thrillers / General", None),
    ("FIC027000", "FICTION / Romance / General", None),
    ("FIC019000", "FICTION / Literary", None),
    ("BIO000000", "BIOGRAPHY & AUTOBIOGRAPHY / General", None),
    ("HIS000000", "HISTORY / General", None),
    ("NAT000000", "NATURE / General", None),
    ("SCI000000", "SCIENCE / General", None),
    ("CKB000000", "COOKING / General", None),
    ("TRV000000", "TRAVEL / General", None),
    ("JUV000000", "JUVENILE FICTION / General", None),
    ("JUV001000", "JUVENILE FICTION / Action & Adventure / General", None),
    ("POE000000", "POETRY / General", None),
    ("POL000000", "POLITICAL SCIENCE / General", None),
)
THEMA = (
    ("FB", "Fiction: general and literary", "F"),
    ("FM", "Fantasy", "F"),
    ("FF", "Crime and mystery fiction", "F"),
    ("FV", "Historical fiction", "F"),
    ("FL", "Science fiction", "F"),
    ("FH", "Thriller / suspense fiction", "F"),
    ("FR", "Romance", "F"),
    ("DNB", "Biography: general", "DN"),
    ("NH", "History", "N"),
    ("RN", "The environment", "R"),
    ("PD", "Science: general issues", "P"),
    ("WB", "Cookery / food and drink / eating out", "W"),
    ("WT", "Travel and holiday", "W"),
    ("YFA", "Children's / Teenage fiction: Classic fiction", "YF"),
    ("YFC", "Children's / Teenage fiction: Action and adventure stories", "YF"),
    ("DC", "Poetry", "D"),
    ("JP", "Politics and government", "J"),
)
BIC = (
    ("FA", "Modern & contemporary fiction (post c 1945)"),
    ("FM", "Fantasy"),
    ("FF", "Crime & mystery"),
    ("HBG", "General & world history"),
    ("BGA", "Autobiography: general"),
    ("WBA", "General cookery & recipes"),
)
# Subject families per work type: indexes into BISAC/THEMA chosen together so the pair is coherent.
SUBJECT_PAIRS = {
    "Fiction": ((0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 6), (7, 0)),
    "Non-fiction": ((8, 7), (9, 8), (10, 9), (11, 10), (12, 11), (13, 12), (17, 16)),
    "Children's": ((14, 13), (15, 14)),
    "Poetry": ((16, 15),),
}
# Malformed codes found in real feeds: wrong length, retired, free text.
BAD_SUBJECT_CODES = (
    ("FIC09", "Fantasy"),
    ("FICTION", "Fiction"),
    ("FIC 009000", "FICTION / Fantasy (typed with a space)"),
    ("XYZ000000", "Uncategorised"),
    ("FQ1", "Fantasy (old code)"),
)

ROLE_CODES = {
    "A01": "By (author)",
    "A12": "Illustrated by",
    "A23": "Foreword by",
    "B01": "Edited by",
    "B06": "Translated by",
    "E07": "Read by",
}

FORENAMES = (
    "Amelia",
    "Oliver",
    "Isla",
    "Arthur",
    "Freya",
    "Noah",
    "Priya",
    "Kwame",
    "Siobhan",
    "Tomasz",
    "Mei",
    "Hugo",
    "Ines",
    "Rahul",
    "Clara",
    "Dmitri",
    "Aoife",
    "Samuel",
    "Leila",
    "Jonah",
    "Hannah",
    "Felix",
    "Zara",
    "Callum",
    "Rosalind",
    "Emeka",
    "Greta",
    "Matteo",
    "Yusuf",
    "Eleanor",
    "Bartholomew",
    "Nadia",
    "Harriet",
    "Ewan",
    "Lucia",
    "Kenji",
    "Imogen",
    "Gabriel",
    "Orla",
    "Tobias",
)
SURNAMES = (
    "Ashworth",
    "Okafor",
    "Lindqvist",
    "Marchetti",
    "Fairbairn",
    "Nakamura",
    "Haldane",
    "Pryce",
    "Delacroix",
    "Mbeki",
    "O'Sullivan",
    "Kowalski",
    "Thistlewood",
    "Ramaswamy",
    "Greaves",
    "Abernethy",
    "Castellanos",
    "Whitcombe",
    "Adeyemi",
    "Sorensen",
    "Blackwood",
    "Quinlan",
    "Varga",
    "Hollis",
    "Ferreira",
    "Montague",
    "Ellery",
    "Achterberg",
    "Rowntree",
    "Szabo",
    "Penhaligon",
    "Mistry",
    "Calloway",
    "Dunmore",
    "Llewellyn",
    "Zielinski",
    "Hargreaves",
    "Oyelaran",
    "Tremayne",
    "Vasquez",
)
GENDERS = ("female", "male", "female", "male", "non-binary", None)

ADJECTIVES = (
    "Silent",
    "Hollow",
    "Burning",
    "Last",
    "Winter",
    "Hidden",
    "Broken",
    "Golden",
    "Drowned",
    "Distant",
    "Secret",
    "Lost",
    "Crimson",
    "Wild",
    "Quiet",
    "Glass",
    "Iron",
    "Paper",
    "Midnight",
    "Salt",
)
NOUNS = (
    "Orchard",
    "Lighthouse",
    "Harbour",
    "Cartographer",
    "Garden",
    "Library",
    "River",
    "Atlas",
    "Ferryman",
    "Kingdom",
    "Archive",
    "Meadow",
    "Clockmaker",
    "Tide",
    "Forest",
    "Observatory",
    "Island",
    "Letters",
    "Saltmarsh",
    "Weather",
    "Inheritance",
    "Physician",
    "Menagerie",
    "Crossing",
    "Bells",
)
PLACES = ("Venice", "the North", "Lisbon", "the Fens", "Kyoto", "Lagos", "the Hebrides", "Prague", "Cornwall", "Cairo")
SUBTITLES = ("A Novel", "A History", "A Memoir", "Stories", "Poems", "A Life", "An Adventure", "Recipes from Home")
SERIES_WORDS = ("Chronicles", "Quartet", "Mysteries", "Trilogy", "Sequence", "Cycle", "Casebook")

RIGHTS_PROFILES = (
    # (salesRightsDescription, forSale, notForSale, worldwide)
    ("World", (), (), True),
    ("UK & Commonwealth excl. Canada", ("GB", "IE", "AU", "NZ", "ZA", "IN", "SG"), ("US", "CA"), False),
    (
        "World excl. US, its dependencies and the Philippines",
        ("GB", "IE", "AU", "NZ", "ZA", "CA"),
        ("US", "PR", "PH"),
        False,
    ),
    ("World English language", ("GB", "IE", "US", "CA", "AU", "NZ", "ZA"), (), False),
)
CONTRACT_TERMS = (
    "Full term of copyright",
    "10 years from first publication",
    "15 years from first publication",
    "7 years from signature",
)
RIGHT_TYPES = ("Translation", "Audio", "Serial", "US", "Film & TV", "Large print", "Book club", "Ebook")
DELIVERY_DESCRIPTIONS = ("Full manuscript", "Revised manuscript", "Illustrations", "Final corrections")
TASK_TITLES = (
    "Cover brief approved",
    "Copy-edit returned to author",
    "Proofs sent to author",
    "Jacket copy signed off",
    "Metadata complete for retailers",
    "Audio narrator cast",
    "Marketing plan agreed",
    "Print order placed",
)
PRINTERS = ("CPI Group", "Clays", "TJ Books", "Bell & Bain")
PRIZES = (
    ("Booker Prize", "Longlisted"),
    ("Costa Book Awards", "Shortlisted"),
    ("Women's Prize for Fiction", "Longlisted"),
    ("Carnegie Medal", "Winner"),
    ("Baillie Gifford Prize", "Shortlisted"),
)
