"""Shipped policy data: the default policy pack, the risk questionnaire, control ids, suites."""
