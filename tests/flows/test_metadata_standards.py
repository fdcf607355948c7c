"""F5 over HTTP: a standards page compiles into the tenant's rule set; broken rows are reported on the page."""

from __future__ import annotations

from addon.confluence.owned_regions import read_region
from addon.extensions import db
from addon.flows import metadata_standards
from addon.publishing.rules import evaluate
from addon.publishing.standards import DEFAULT_RULE_SET
from addon.settings.service import update_settings
from addon.standards.service import current_rule_set

CONSONANCE_RESET_EACH_TEST = True

GOOD_AND_BROKEN = """
<p>Our metadata standards.</p>
<table><tbody>
<tr><th>Field</th><th>Rule</th><th>Applies to</th><th>Severity</th><th>Message</th></tr>
<tr><td>Title</td><td>required</td><td>all</td><td>error</td><td>Every title needs a title.</td></tr>
<tr><td>Description</td><td>max 4000</td><td>ebook</td><td>warning</td><td>Shorten the description.</td></tr>
<tr><td>Contributor name</td><td>name form: Surname, Forenames</td><td></td><td>error</td><td>Write names inverted.</td></tr>
<tr><td>Shoe size</td><td>required</td><td></td><td>error</td><td>No such field.</td></tr>
<tr><td>Title</td><td>flibbertigibbet</td><td></td><td>error</td><td>Nonsense rule.</td></tr>
</tbody></table>
"""


def test_three_good_rows_work_and_two_broken_rows_are_explained_on_the_page(world):
    assert current_rule_set(world.tenant) is DEFAULT_RULE_SET
    page = world.page("Metadata standards", "<p>draft</p>")
    update_settings(world.tenant, {"standards_page_id": page.id}, actor="admin")
    db.session.commit()
    world.edit(page.id, GOOD_AND_BROKEN)
    world.settle()

    rule_set = current_rule_set(world.tenant)
    assert len(rule_set.rules) == 3
    assert {r.field for r in rule_set.rules} >= {"title"}
    title = world.gateway().title("2")
    assert evaluate(title, rule_set).checks  # the compiled rules evaluate real titles

    body = world.person.get_page(page.id).body
    region = read_region(body, metadata_standards.REGION)
    assert "3 rules in use" in region and "2 rows could not be used" in region
    assert "Shoe size" in region and "flibbertigibbet" in region
    assert "<td>5</td>" in region and "<td>6</td>" in region  # row numbers as a reader counts them
    assert GOOD_AND_BROKEN.strip()[:40] in body  # the editor's table is untouched

    version = world.versions(page.id)
    world.settle()
    assert world.versions(page.id) == version  # the region write did not echo


def test_a_page_without_a_table_keeps_the_rules_in_use(world):
    page = world.page("Standards", "<p>draft</p>")
    update_settings(world.tenant, {"standards_page_id": page.id}, actor="admin")
    db.session.commit()
    world.edit(page.id, GOOD_AND_BROKEN)
    world.settle()
    before = current_rule_set(world.tenant).version
    world.edit(page.id, "<p>Oops, the table was deleted.</p>")
    world.settle()

    assert current_rule_set(world.tenant).version == before
    region = read_region(world.person.get_page(page.id).body, metadata_standards.REGION)
    assert "no table whose first row names a Field column and a Rule column" in region
