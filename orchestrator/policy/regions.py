"""Country groups the law and the policies speak of: the EU and the EEA (ISO 3166-1 alpha-2)."""

EU = frozenset(
    (
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
        "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    )
)  # fmt: skip
EEA = EU | {"IS", "LI", "NO"}
REGIONS = {"EU": EU, "EEA": EEA}
