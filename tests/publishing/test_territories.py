"""Territory codes in words."""

from addon.publishing.territories import territory_name, territory_names


def test_codes_read_as_country_names_and_unknown_ones_stay_as_written():
    assert territory_names(["AU", "gb", " US ", "ROW", "WORLD"]) == [
        "Australia",
        "United Kingdom",
        "United States",
        "the rest of the world",
        "the world",
    ]
    assert territory_name("QQ") == "QQ"
