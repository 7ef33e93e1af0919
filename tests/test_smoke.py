def test_login_and_see_complaints(world, login, client, make_complaint):
    make_complaint(world.investigator)
    login(world.investigator)
    page = client.get("/complaints/")
    assert page.status_code == 200
    assert "Acme Packing" in page.get_data(as_text=True)
