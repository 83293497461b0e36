"""A filled-in new proposal form of the dealer app (field name → what a dealer types), shared by
the httpx tests (tests/dealer_app/test_sales.py) and the browser tests (test_dealer_sales.py)."""

FORM: dict[str, str] = {
    "product_kind": "service",
    "product_code": "ENT24",
    "product_label": "Contrat d'entretien 24 mois",
    "product_price": "499,90",
    "product_duration_months": "24",
    "buyer_first_name": "Léa",
    "buyer_last_name": "Dubois",
    "buyer_email": "lea.dubois@example.com",
    "buyer_mobile": "06 12 34 56 78",
    "buyer_address_line1": "3 rue des Lilas",
    "buyer_address_postal_code": "69003",
    "buyer_address_city": "Lyon",
    "vehicle_registration": "gh-456-jk",
    "vehicle_vin": "VF3LCYHZPHS654321",
    "vehicle_make": "Renault",
    "vehicle_model": "Clio",
    "vehicle_first_registration": "2020-05-04",
    "vehicle_mileage_km": "35 000",
    "seller_profile": "nouveau",
    "seller_name": "Paul Vendeur",
    "seller_email": "paul@garage-nord.example",
    "seller_phone": "01 23 45 67 89",
}
