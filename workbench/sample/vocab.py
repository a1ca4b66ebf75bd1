"""Fictional vocabularies for the synthetic world: chains, names, vehicles, corridors, postcode areas.

All chain names are invented. Town names are real local-authority names from the open LSOA data;
postcode *areas* are real, districts and sectors are random (the postcodes are synthetic).
"""
from __future__ import annotations

# code, name, sector, stores, share of its incidents it reports, mean loss (GBP), goods it stocks
CHAINS = (
    ("BRM", "Brightmart", "supermarket", 380, 0.80, 95, ("RAZOR", "ALCOHOL", "MEAT", "FORMULA", "CONFEC")),
    ("HGR", "Harvest Grocers", "supermarket", 300, 0.70, 85, ("ALCOHOL", "MEAT", "FORMULA", "CONFEC", "RAZOR")),
    ("PHL", "Pillbox Health & Beauty", "pharmacy", 320, 0.75, 110, ("RAZOR", "COSMET", "FORMULA")),
    ("GLW", "Glow & Co", "cosmetics", 150, 0.85, 160, ("COSMET",)),
    ("VLU", "ValueDen", "discount", 260, 0.55, 45, ("CONFEC", "COSMET", "ELEC")),
    ("CRN", "Cornerway Local", "convenience", 350, 0.60, 40, ("ALCOHOL", "CONFEC", "MEAT")),
    ("FTH", "FitHaus Sports", "sports", 120, 0.80, 180, ("CLOTH",)),
    ("TKN", "Tekno Depot", "electronics", 110, 0.85, 320, ("ELEC",)),
    ("BLD", "BuildRight DIY", "diy", 120, 0.75, 260, ("TOOLS",)),
    ("CLR", "Cellar & Vine", "off-licence", 140, 0.70, 130, ("ALCOHOL",)),
    ("THD", "Threadline", "fashion", 150, 0.65, 120, ("CLOTH",)),
    ("NST", "Nestling Baby", "baby", 80, 0.80, 140, ("FORMULA",)),
)

STORE_SUFFIXES = ("High Street", "Retail Park", "Central", "Market Place", "Shopping Centre", "North", "South",
                  "East", "West", "Station Road", "Riverside", "Broadway", "Parkway", "Square", "Gate")
STREETS = ("High Street", "Market Street", "Station Road", "Church Street", "London Road", "Victoria Road",
           "Queen Street", "King Street", "Bridge Street", "Park Lane", "Mill Lane", "Retail Park Way",
           "Commercial Road", "Castle Street", "New Road", "Albert Road", "The Parade", "Broad Street")

FORENAMES_M = ("James", "John", "Robert", "Michael", "David", "William", "Richard", "Thomas", "Daniel", "Matthew",
               "Anthony", "Mark", "Paul", "Steven", "Andrew", "Joshua", "Kevin", "Brian", "George", "Edward",
               "Ryan", "Jacob", "Gary", "Nicholas", "Jonathan", "Stephen", "Liam", "Connor", "Callum", "Kyle",
               "Jordan", "Lewis", "Nathan", "Dean", "Wayne", "Lee", "Craig", "Jamie", "Aaron", "Reece",
               "Mohammed", "Ali", "Hassan", "Tomasz", "Piotr", "Marius", "Andrei", "Ionut", "Darius", "Kai",
               "José", "Sean", "Declan", "Patrick", "Emre", "Oliver", "Harry", "Charlie", "Alfie", "Frankie")
FORENAMES_F = ("Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Susan", "Jessica", "Sarah", "Karen",
               "Lisa", "Nancy", "Sandra", "Emily", "Michelle", "Amanda", "Melissa", "Stephanie", "Rebecca",
               "Laura", "Emma", "Chloe", "Jade", "Kelly", "Leanne", "Stacey", "Danielle", "Gemma", "Natalie",
               "Amira", "Fatima", "Aisha", "Agnieszka", "Ioana", "Elena", "Zoë", "Siobhán", "Courtney", "Demi",
               "Shannon", "Paige", "Chantelle", "Roxanne")
SURNAMES = ("Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
            "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes", "Green", "Hall",
            "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill",
            "Ward", "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison", "Morgan", "Allen", "James",
            "Scott", "Phillips", "Watson", "Davis", "Parker", "Price", "Bennett", "Young", "Griffiths", "Mitchell",
            "Kelly", "Cook", "Carter", "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Murphy", "Miller",
            "Cox", "Richards", "Khan", "Marshall", "Anderson", "Simpson", "Ellis", "Adams", "Singh", "Begum",
            "Wilkinson", "Foster", "Chapman", "Powell", "Webb", "Rogers", "Gray", "Mason", "Ali", "Hunt",
            "Hussain", "Campbell", "Matthews", "Owen", "Palmer", "Holmes", "Mills", "Barnes", "Knight", "Lloyd",
            "Butler", "Russell", "Barker", "Fisher", "Stevens", "Jenkins", "Dixon", "Fletcher", "Kowalski",
            "Nowak", "Popescu", "Ionescu", "Stan", "Ahmed", "O'Brien", "O'Connor", "McDonald", "Doherty",
            "Gallagher", "Byrne", "Quinn", "Connors", "Maguire", "Lynch", "Yilmaz", "Demir", "Nguyen", "Tran")
NICKNAMES = {"James": "Jim", "John": "Jack", "Robert": "Bob", "Michael": "Mike", "David": "Dave",
             "William": "Bill", "Richard": "Rich", "Thomas": "Tom", "Daniel": "Danny", "Matthew": "Matt",
             "Anthony": "Tony", "Steven": "Steve", "Andrew": "Andy", "Joshua": "Josh", "Edward": "Eddie",
             "Nicholas": "Nick", "Jonathan": "Jon", "Stephen": "Steve", "Jamie": "Jay", "Mohammed": "Mo",
             "Patricia": "Trish", "Jennifer": "Jen", "Elizabeth": "Liz", "Susan": "Sue", "Jessica": "Jess",
             "Rebecca": "Becky", "Stephanie": "Steph", "Danielle": "Dani", "Natalie": "Nat", "Frankie": "Frank",
             "Charlie": "Chas", "Harry": "Haz", "Oliver": "Ollie", "Callum": "Cal", "Alfie": "Alf"}

VEHICLE_MAKES = ("Ford Transit", "Vauxhall Astra", "Ford Focus", "VW Golf", "BMW 3 Series", "Audi A4",
                 "Mercedes Sprinter", "Toyota Prius", "Nissan Qashqai", "Peugeot 308", "Skoda Octavia",
                 "Renault Clio", "Citroen Berlingo", "Kia Sportage", "Seat Leon", "Vauxhall Corsa")
COLOURS = ("black", "white", "silver", "grey", "blue", "red", "green", "dark blue", "dark grey")
VRM_LETTERS = "ABCDEFGHJKLMNOPRSTUVWXY"   # no I, Q, Z in the random part of current plates

# Day-long runs follow motorway corridors: ordered local authorities (real names in the LSOA data).
CORRIDORS = {
    "M1": ("Barnet", "Watford", "Luton", "Milton Keynes", "Northampton", "Leicester", "Nottingham",
           "Chesterfield", "Sheffield", "Wakefield", "Leeds"),
    "M6": ("Birmingham", "Walsall", "Stafford", "Stoke-on-Trent", "Cheshire East", "Warrington", "Wigan",
           "Preston", "Lancaster", "Carlisle"),
    "M4": ("Hounslow", "Slough", "Reading", "Swindon", "Bristol", "Newport", "Cardiff", "Bridgend", "Swansea"),
    "M5": ("Birmingham", "Worcester", "Cheltenham", "Gloucester", "South Gloucestershire", "Bristol",
           "Sedgemoor", "Taunton Deane", "Exeter"),
    "M62": ("Liverpool", "St. Helens", "Warrington", "Salford", "Manchester", "Oldham", "Calderdale",
            "Kirklees", "Leeds", "Wakefield", "East Riding of Yorkshire", "Kingston upon Hull"),
    "A1": ("Barnet", "Welwyn Hatfield", "Stevenage", "Central Bedfordshire", "Huntingdonshire", "Peterborough",
           "South Kesteven", "Newark and Sherwood", "Bassetlaw", "Doncaster", "Selby", "Harrogate",
           "Darlington", "County Durham", "Gateshead", "Newcastle upon Tyne"),
    "M3-A27": ("Richmond upon Thames", "Spelthorne", "Surrey Heath", "Basingstoke and Deane", "Winchester",
               "Southampton", "Portsmouth", "Chichester", "Brighton and Hove"),
    "M25-M20": ("Chelmsford", "Thurrock", "Bexley", "Dartford", "Medway", "Maidstone", "Ashford", "Canterbury",
                "Dover"),
    "A14": ("Ipswich", "Mid Suffolk", "St Edmundsbury", "Cambridge", "Huntingdonshire", "Kettering",
            "Harborough", "Rugby", "Coventry"),
    "A55": ("Manchester", "Trafford", "Warrington", "Cheshire West and Chester", "Flintshire", "Denbighshire",
            "Conwy", "Gwynedd"),
    "M40": ("Hillingdon", "Wycombe", "Oxford", "Cherwell", "Warwick", "Solihull", "Birmingham"),
    "M18-M180": ("Chesterfield", "Sheffield", "Rotherham", "Doncaster", "North Lincolnshire",
                 "North East Lincolnshire", "Lincoln"),
}

# Real postcode areas by force (districts and sectors generated at random).
POSTCODE_AREAS = {
    "01": ("E", "N", "NW", "SE", "SW", "W", "BR", "CR", "HA", "IG", "RM", "UB", "EN", "TW"), "48": ("EC",),
    "03": ("CA", "LA"), "04": ("PR", "BB", "FY", "LA"), "05": ("L", "CH"), "06": ("M", "BL", "OL", "SK", "WN"),
    "07": ("CW", "WA", "CH"), "10": ("NE", "SR"), "11": ("DH", "DL"), "12": ("YO", "HG", "DL"),
    "13": ("LS", "BD", "HX", "HD", "WF"), "14": ("S", "DN"), "16": ("HU", "DN"), "17": ("TS",),
    "20": ("B", "CV", "WV", "DY", "WS"), "21": ("ST", "WS"), "22": ("WR", "HR", "SY", "TF"), "23": ("CV",),
    "30": ("DE", "S"), "31": ("NG",), "32": ("LN", "PE"), "33": ("LE",), "34": ("NN",), "35": ("CB", "PE"),
    "36": ("NR",), "37": ("IP", "CO"), "40": ("LU", "MK"), "41": ("AL", "SG", "WD", "HP"),
    "42": ("CM", "CO", "SS"), "43": ("OX", "RG", "SL", "MK", "HP"), "44": ("SO", "PO", "RG", "GU"),
    "45": ("GU", "KT", "RH"), "46": ("CT", "ME", "TN", "DA"), "47": ("BN", "RH", "TN"),
    "50": ("EX", "PL", "TQ", "TR"), "52": ("BS", "BA", "TA"), "53": ("GL",), "54": ("SN", "SP"),
    "55": ("BH", "DT"), "60": ("LL", "CH"), "61": ("NP",), "62": ("CF", "SA"), "63": ("SA", "LD", "SY"),
}
POSTCODE_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

# Crime number styles: forces number their crimes differently; the style is chosen per force.
CRIME_NUMBER_STYLES = ("{cjs}/{serial:07d}/{yy}", "{abbr}-{yyyy}-{serial:07d}", "{abbr}{yy}{serial:08d}",
                       "{serial:07d}/{yy}")
