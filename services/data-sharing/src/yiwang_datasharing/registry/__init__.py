"""基础库 Base registries: the population registry (人口库) and the legal-person registry (法人库)."""
