"""GraphQL over real HTTP: auth, searches that filter, pagination, and mutations whose effects later reads see."""

from __future__ import annotations

import requests

from sandbox.consonance.isbn import is_valid_isbn13


def test_missing_or_wrong_key_is_401_json(shared_sandbox):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Token {shared_sandbox.api_key}"}):
        response = requests.post(
            shared_sandbox.graphql_url, json={"query": "{ projectStages { name } }"}, headers=headers, timeout=5
        )
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_configured_keys_replace_the_default():
    from sandbox.consonance.testing import running_sandbox

    with running_sandbox(SIZE=10, API_KEYS="alpha,beta") as sandbox:

        def status(key):
            return requests.post(
                sandbox.graphql_url,
                json={"query": "{ projectStages { name } }"},
                headers={"Authorization": f"Bearer {key}"},
                timeout=5,
            ).status_code

        assert (status("alpha"), status("beta"), status("sandbox-api-key")) == (200, 200, 401)


def test_title_search_filters(reader, shared_sandbox):
    works = reader.data('{ works(workSearch: {titleCont: "orchard"}, perPage: 500) { id title } }')["works"]
    expected = [w.id for w in shared_sandbox.state.works.values() if "orchard" in w.full_title.lower()]
    assert expected and [int(w["id"]) for w in works] == expected


def test_product_by_isbn_with_or_without_hyphens(reader, shared_sandbox):
    product = next(p for p in shared_sandbox.state.products.values() if p.isbn13 and p.isbn13.isdigit())
    for isbn in (product.isbn13, f"{product.isbn13[:3]}-{product.isbn13[3:]}"):
        found = reader.data(
            "query($i: String) { product(productSearch: {isbn13Eq: $i}) { id __typename "
            "isbn { isbn13 isbnWithDashes } work { id } } }",
            {"i": isbn},
        )["product"]
        assert found["id"] == str(product.id) and found["work"]["id"] == str(product.work.id)
        assert found["__typename"] == product.typename
    assert reader.data('{ product(productSearch: {isbn13Eq: "9790000000001"}) { id } }')["product"] is None


def test_products_filter_by_form_date_price_and_work(reader, shared_sandbox):
    query = """{ products(productSearch: {onix21ProductFormCodeIn: [BB, BC], publicationDateGt: "2026-01-01"},
                          priceSearch: {amountLteq: 10.0, currencyCodeIn: [GBP]}, workSearch: {titleCont: "the"},
                          perPage: 500) {
                   id onix21ProductFormCode publicationDate
                   prices(priceSearch: {currencyCodeIn: [GBP], onixPriceTypeCodeIn: [_02], onixPriceTypeQualifierCodeIn: [_05]}) {
                     amount currencyCode onixPriceTypeCode onixPriceTypeQualifierCode } } }"""
    products = reader.data(query)["products"]
    from datetime import date

    expected = [
        p.id
        for p in shared_sandbox.state.products.values()
        if p.format in ("hardback", "paperback")
        and p.publication_date > date(2026, 1, 1)
        and any(c == "GBP" and a <= 10.0 for c, a, _, _ in p.prices)
        and "the" in p.work.full_title.lower()
    ]
    assert expected and [int(p["id"]) for p in products] == expected
    for product in products:
        assert product["onix21ProductFormCode"] in ("BB", "BC") and product["publicationDate"] > "2026-01-01"
        assert [price["currencyCode"] for price in product["prices"]] == ["GBP"]
        assert product["prices"][0]["onixPriceTypeCode"] == "_02" and product["prices"][0]["amount"] <= 10.0


def test_works_by_stage_and_by_product_search(reader, shared_sandbox):
    works = reader.data(
        '{ works(workSearch: {projectStageNameIn: ["Proofs", "Production"]}, perPage: 500) { id projectStage } }'
    )["works"]
    assert works and {w["projectStage"] for w in works} <= {"Proofs", "Production"}
    assert len(works) == sum(1 for w in shared_sandbox.state.works.values() if w.stage in ("Proofs", "Production"))
    audio = reader.data(
        "{ works(productSearch: {onix21ProductFormCodeIn: [AJ]}, perPage: 500) { id products { __typename } } }"
    )
    assert audio["works"] and all("AudioProduct" in [p["__typename"] for p in w["products"]] for w in audio["works"])


def test_work_fields_and_shapes(reader, shared_sandbox):
    work = next(w for w in shared_sandbox.state.works.values() if w.series and w.tasks and len(w.products) > 2)
    data = reader.data(
        """query($id: ID) { work(workSearch: {idEq: $id}) {
        id title projectStage season marketingTier imprint seriesMemberships { seriesName numberWithinSeries series { id } }
        contributions { onixContributorRoleCode contributor { name keyNames } }
        contracts { contractName signedDate deliveryDates { dateDue slippedDate } msDeliveryDate
                    licensedRights { id rightType authorCut } guaranteedRoyaltyValue }
        tasks { id title status dueDate } supportingResources { url caption }
        products { __typename publicationDateString(directives: "%Y") forSaleCountryCodes notForSaleCountryCodes
                   isForSaleWorldwide subjectCodes(schemesIn: [THEMA], mainOnly: true) { code parentCode main }
                   marketingTexts(variantIn: [SHORT_DESCRIPTION]) { externalText }
                   ... on PhysicalBookProduct { productHeight productHeightCm: productHeight(unit: CM)
                                                productHeightIn: productHeight(unit: IN) } } } }""",
        {"id": work.id},
    )["work"]
    assert data["title"] == work.full_title and data["season"] == work.season
    assert data["seriesMemberships"][0]["seriesName"] == work.series[0][2]
    assert data["contributions"][0]["contributor"]["name"] == work.contributions[0].person.name
    assert len(data["tasks"]) == len(work.tasks)
    for product, record in zip(data["products"], work.products, strict=True):
        assert product["publicationDateString"] == str(record.publication_date.year)
        assert all(s["parentCode"] for s in product["subjectCodes"])
        if record.trim:
            assert product["productHeight"] == record.trim[0]
            assert product["productHeightCm"] == round(record.trim[0] / 10, 2)
            assert product["productHeightIn"] == round(record.trim[0] / 25.4, 2)


def test_pagination_with_counts(reader, shared_sandbox):
    count = reader.data("{ worksCount }")["worksCount"]
    assert count == len(shared_sandbox.state.works)
    seen, page = [], 1
    while True:
        batch = reader.data("query($p: Int) { works(page: $p, perPage: 70) { id } }", {"p": page})["works"]
        seen += [int(w["id"]) for w in batch]
        if page * 70 >= count:
            break
        page += 1
    assert page == -(-count // 70)
    assert seen == sorted(shared_sandbox.state.works)
    assert reader.data("{ works(page: 99, perPage: 70) { id } }")["works"] == []
    assert (
        reader.data("{ productsCount(productSearch: {onix21ProductFormCodeIn: [AJ]}) }")["productsCount"]
        == shared_sandbox.state.format_count["audiobook"]
    )


def test_page_size_over_the_maximum_is_a_graphql_error(reader):
    body = reader.post("{ works(perPage: 501) { id } }").json()
    assert "perPage" in body["errors"][0]["message"]


def test_contacts_person_and_contracts(reader, shared_sandbox):
    person = next(iter(shared_sandbox.state.persons.values()))
    surname = person.name.split()[-1]
    contacts = reader.data(
        "query($n: String) { contacts(contactSearch: {personNameCont: $n}, perPage: 500) { id name } }", {"n": surname}
    )["contacts"]
    assert str(person.id) in [c["id"] for c in contacts] and all(surname in c["name"] for c in contacts)
    assert (
        reader.data("query($id: ID) { person(id: $id) { name notes { noteText content } } }", {"id": person.id})[
            "person"
        ]["name"]
        == person.name
    )
    contract = next(iter(shared_sandbox.state.contracts.values()))
    found = reader.data(
        "query($id: ID) { contract(contractSearch: {idEq: $id}) { contractName works { id } } }", {"id": contract.id}
    )["contract"]
    assert found["contractName"] == contract.name
    by_work = reader.data(
        "query($w: [ID!]) { contracts(contractSearch: {workIdIn: $w}) { id } }", {"w": [contract.works[0].id]}
    )["contracts"]
    assert [c["id"] for c in by_work] == [str(contract.id)]


def test_update_product_validation_errors_name_the_field(gql, fresh_sandbox):
    product = next(iter(fresh_sandbox.state.products.values()))
    other = list(fresh_sandbox.state.products.values())[1]
    mutation = """mutation($input: UpdateProductInput!) { updateProduct(input: $input) {
        product { id isbn { isbn13 } publicationDate } errors { field messages } } }"""
    bad = gql.data(mutation, {"input": {"id": product.id, "isbn": "9781910000019"}})["updateProduct"]
    assert bad["errors"] == [{"field": "isbn", "messages": ["is not a valid ISBN-13"]}]
    taken = gql.data(mutation, {"input": {"id": product.id, "isbn": other.isbn13}})["updateProduct"]
    assert taken["errors"][0]["field"] == "isbn" and "taken" in taken["errors"][0]["messages"][0]
    ok = gql.data(
        mutation,
        {
            "input": {
                "id": product.id,
                "isbn": "978-1-4088-5565-2",
                "publicationDate": "2027-03-04",
                "onixPublishingStatusCode": "_02",
            }
        },
    )["updateProduct"]
    assert ok["errors"] == [] and ok["product"]["isbn"]["isbn13"] == "9781408855652"
    assert is_valid_isbn13("9781408855652")
    again = gql.data(
        '{ product(productSearch: {isbn13Eq: "9781408855652"}) { id publicationDate onixPublishingStatusCode } }'
    )
    assert again["product"] == {
        "id": str(product.id),
        "publicationDate": "2027-03-04",
        "onixPublishingStatusCode": "_02",
    }
    missing = gql.data(mutation, {"input": {"id": 999999}})["updateProduct"]
    assert missing == {"product": None, "errors": [{"field": "id", "messages": ["not found"]}]}


def test_update_work_title_and_web_links(gql):
    mutation = """mutation($input: UpdateWorkInput!) { updateWork(input: $input) {
        work { title webLinks { id link role note } } errors { field messages } } }"""
    blank = gql.data(mutation, {"input": {"id": 1, "title": "  ", "webLinks": [{"link": "not-a-url"}]}})["updateWork"]
    assert [e["field"] for e in blank["errors"]] == ["title", "webLinks[0].link"]
    created = gql.data(
        mutation,
        {
            "input": {
                "id": 1,
                "title": "The Salt Road",
                "webLinks": [{"link": "https://wiki.example/pages/1", "role": "Confluence page", "note": "Title home"}],
            }
        },
    )["updateWork"]
    assert created["errors"] == [] and created["work"]["title"] == "The Salt Road"
    link_id = created["work"]["webLinks"][0]["id"]
    updated = gql.data(mutation, {"input": {"id": 1, "webLinks": [{"id": link_id, "note": "Renamed"}]}})["updateWork"]
    assert updated["work"]["webLinks"] == [
        {"id": link_id, "link": "https://wiki.example/pages/1", "role": "Confluence page", "note": "Renamed"}
    ]
    foreign = gql.data(mutation, {"input": {"id": 2, "webLinks": [{"id": link_id, "note": "x"}]}})["updateWork"]
    assert foreign["errors"][0]["field"] == "webLinks[0].id"
    assert gql.data('{ works(workSearch: {titleEq: "The Salt Road"}) { id } }')["works"] == [{"id": "1"}]


def test_notes_are_created_once_per_external_ref(gql):
    mutation = """mutation($input: CreateWorkNoteInput!) { createWorkNote(input: $input) {
        note { id noteText content createdAt externalRef } errors { field messages } } }"""
    first = gql.data(mutation, {"input": {"workId": 3, "noteText": "Decision: go", "externalRef": "d-1"}})
    second = gql.data(mutation, {"input": {"workId": 3, "noteText": "Decision: go", "externalRef": "d-1"}})
    assert first == second and first["createWorkNote"]["note"]["content"] == "Decision: go"
    blank = gql.data(mutation, {"input": {"workId": 3, "noteText": ""}})["createWorkNote"]
    assert blank["errors"] == [{"field": "noteText", "messages": ["can't be blank"]}]
    notes = gql.data("{ work(workSearch: {idEq: 3}) { notes { noteText externalRef } } }")["work"]["notes"]
    assert [n for n in notes if n["externalRef"] == "d-1"] == [{"noteText": "Decision: go", "externalRef": "d-1"}]


def test_tasks_create_idempotently_complete_and_reopen(gql):
    create = """mutation($input: CreateWorkTaskInput!) { createWorkTask(input: $input) {
        task { id title status dueDate externalRef completedAt } errors { field messages } } }"""
    variables = {
        "input": {"workId": 4, "title": "QC gate: print files", "dueDate": "2026-12-15", "externalRef": "gate-7"}
    }
    task = gql.data(create, variables)["createWorkTask"]["task"]
    assert task["status"] == "OPEN" and task["dueDate"] == "2026-12-15"
    assert gql.data(create, variables)["createWorkTask"]["task"]["id"] == task["id"]
    done = gql.data(
        "mutation($id: ID!) { completeWorkTask(input: {id: $id}) { task { status completedAt } errors { field } } }",
        {"id": task["id"]},
    )["completeWorkTask"]
    assert done["task"]["status"] == "COMPLETE" and done["task"]["completedAt"].endswith("Z")
    open_tasks = gql.data("{ work(workSearch: {idEq: 4}) { tasks(statusIn: [OPEN]) { id } } }")["work"]["tasks"]
    assert task["id"] not in [t["id"] for t in open_tasks]
    reopened = gql.data(
        "mutation($id: ID!) { reopenWorkTask(input: {id: $id}) { task { status completedAt } } }", {"id": task["id"]}
    )["reopenWorkTask"]["task"]
    assert reopened == {"status": "OPEN", "completedAt": None}
    blank = gql.data(create, {"input": {"workId": 4, "title": " "}})["createWorkTask"]
    assert blank["errors"][0]["field"] == "title"


def test_stage_change_is_validated_and_visible(gql):
    mutation = """mutation($stage: String!) { changeWorkProjectStage(input: {workId: 5, projectStage: $stage}) {
        work { projectStage } errors { field messages } } }"""
    assert gql.data(mutation, {"stage": "Limbo"})["changeWorkProjectStage"]["errors"][0]["field"] == "projectStage"
    assert gql.data(mutation, {"stage": "Proofs"})["changeWorkProjectStage"] == {
        "work": {"projectStage": "Proofs"},
        "errors": [],
    }
    assert gql.data("{ work(workSearch: {idEq: 5}) { projectStage } }")["work"]["projectStage"] == "Proofs"
    stages = gql.data("{ projectStages { name position } }")["projectStages"]
    assert stages[0] == {"name": "Acquisition", "position": 1} and stages[-1]["name"] == "Published"


def test_syntax_and_unknown_fields_are_graphql_errors(gql):
    assert "errors" in gql.post("{ works { id ").json()
    body = gql.post("{ works { id nope } }").json()
    assert "nope" in body["errors"][0]["message"] and "data" not in body
    assert gql.session.post(gql.sandbox.graphql_url, data="not json", timeout=5).status_code == 400
    assert (
        gql.session.post(
            gql.sandbox.graphql_url, json={"query": "{ worksCount }", "variables": [1]}, timeout=5
        ).status_code
        == 400
    )
    missing = requests.get(f"{gql.sandbox.url}/_sandbox/works/99999", timeout=5)
    assert missing.status_code == 404 and missing.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_concurrent_creates_with_one_external_ref_make_one_task(gql, fresh_sandbox):
    import concurrent.futures

    create = """mutation($ref: String) { createWorkTask(input: {workId: 6, title: "Gate", externalRef: $ref}) {
        task { id } errors { field } } }"""
    refs = ["same"] * 12 + [f"ref-{n}" for n in range(12)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda ref: gql.data(create, {"ref": ref})["createWorkTask"]["task"]["id"], refs))
    assert len(set(ids[:12])) == 1 and len(set(ids)) == 13
    tasks = fresh_sandbox.state.works[6].tasks
    assert sum(1 for t in tasks if t.external_ref == "same") == 1
    assert sum(1 for t in tasks if (t.external_ref or "").startswith("ref-")) == 12
