"""A first mapping guessed from a file's column names and first values, for people to correct.

Names are compared without case, spaces, `_` and `-` against each field's usual names in
exports (`CustomerID`, `Customer ID`, `cust_id`, `InvoiceDate`, `order_date` ...); values
decide between candidates (an id written as a float, text that reads as dates). A transaction
file with a quantity and a unit price but no amount gets `Quantity * UnitPrice` as the value.
"""
from __future__ import annotations

import re

import pandas as pd

from segwork.mapping.spec import FieldSource, Mapping
from segwork.schemas import columns

SYNONYMS = {
    "event_id": ["eventid", "id", "transactionid", "orderlineid", "lineid", "invoiceno", "invoice", "orderid", "ordernumber",
                 "orderref", "order", "reference", "ref"],
    "customer_id": ["customerid", "custid", "customer", "clientid", "client", "userid", "user", "memberid", "accountid",
                    "customernumber", "customerno", "kundennr", "kundennummer", "kunde", "idclient", "numeroclient"],
    "event_type": ["eventtype", "type", "action", "event", "activity", "kind"],
    "event_value": ["eventvalue", "value", "amount", "revenue", "total", "sales", "price", "totalprice", "spend",
                    "umsatz", "betrag", "montant"],
    "product_id": ["productid", "stockcode", "sku", "itemid", "product", "item", "articleid", "artikelnr", "artikel",
                   "produkt"],
    "category": ["category", "productcategory", "department", "group"],
    "timestamp": ["timestamp", "eventtime", "invoicedate", "orderdate", "date", "datetime", "time", "createdat",
                  "occurredat", "purchasedate", "updatedat", "bestelldatum", "datum", "date de commande"],
    "name": ["name", "fullname", "customername", "clientname"],
    "email": ["email", "emailaddress", "mail"],
    "age": ["age"],
    "gender": ["gender", "sex"],
    "location": ["location", "country", "city", "region", "state"],
    "signup_date": ["signupdate", "signup", "registered", "registrationdate", "createdat", "joined", "firstseen"],
    "lifetime_value": ["lifetimevalue", "ltv", "clv", "totalspend", "customervalue"],
}
QUANTITY = ["quantity", "qty", "units", "count"]
UNIT_PRICE = ["unitprice", "price", "priceeach", "itemprice"]


def normalised(name: str) -> str:
    """`Customer ID`, `customer_id` and `CustomerID` all read `customerid`."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def suggest(table: str, sample: pd.DataFrame) -> Mapping:
    """A mapping for `table` from a file's first rows (`sample`, its own columns as read)."""
    by_name = {normalised(c): c for c in sample.columns}
    fields: dict[str, FieldSource] = {}
    taken: set[str] = set()
    for field in columns(table):
        for candidate in SYNONYMS.get(field, []):
            column = by_name.get(candidate)
            if column is not None and column not in taken:
                fields[field] = _source(field, column, sample[column])
                taken.add(column)
                break
    if table == "customer_events":
        quantity, price = _first(by_name, QUANTITY), _first(by_name, UNIT_PRICE)
        if quantity and price and (fields.get("event_value") is None or fields["event_value"].column == price):
            fields["event_value"] = FieldSource(expression=f"{_ref(quantity)} * {_ref(price)}")
        if "event_id" not in fields:
            fields["event_id"] = FieldSource(template="{_line}")
        if "event_type" not in fields:
            fields["event_type"] = FieldSource(constant="purchase")
    if "timestamp" in columns(table) and "timestamp" not in fields and (dated := _dated_column(sample, taken)):
        fields["timestamp"] = FieldSource(column=dated, format=date_format(sample[dated]))
    profiles = None
    if table == "customer_events" and (place := _first(by_name, SYNONYMS["location"])):
        profiles = {"location": FieldSource(column=place)}
    return Mapping(table=table, fields=fields, profiles=profiles)


def date_format(values: pd.Series) -> str | None:
    """The strftime format of day/month/year text (05/01/2024, 31.12.2024 10:00), told apart from
    month/day/year by a part above 12; None for ISO 8601 or when nothing tells (then day first)."""
    text = values.dropna().astype(str).str.strip()
    parts = text.str.extract(r"^(\d{1,2})([/.-])(\d{1,2})[/.-](\d{4})(?:[ T](\d{1,2}:\d{2})(:\d{2})?)?$")
    if text.empty or parts[0].isna().any():
        return None
    first, second = parts[0].astype(int), parts[2].astype(int)
    sep = parts[1].iloc[0]
    order = "%m{0}%d{0}%Y" if (second > 12).any() and not (first > 12).any() else "%d{0}%m{0}%Y"
    clock = "" if parts[4].isna().all() else (" %H:%M:%S" if parts[5].notna().any() else " %H:%M")
    return order.format(sep) + clock


def _source(field: str, column: str, values: pd.Series) -> FieldSource:
    text = values.dropna().astype(str).str.strip()
    if field == "event_id" and text.duplicated().any():  # an order number shared by its lines
        return FieldSource(template=f"{{{column}}}-{{_line}}")
    if field in ("timestamp", "signup_date") and (fmt := date_format(values)):
        return FieldSource(column=column, format=fmt)
    if field.endswith("_id") and len(text) and text.str.fullmatch(r"\d+\.0").all():
        return FieldSource(expression=f'{_ref(column)}.str.removesuffix(".0")')  # ids exported as floats
    return FieldSource(column=column)


def _first(by_name: dict[str, str], names: list[str]) -> str | None:
    return next((by_name[n] for n in names if n in by_name), None)


def _ref(column: str) -> str:
    return column if column.isidentifier() else f"`{column}`"


def _dated_column(sample: pd.DataFrame, taken: set[str]) -> str | None:
    """The first untaken column whose values all read as dates (ISO 8601, or day/month/year)."""
    for column in sample.columns:
        values = sample[column].dropna().astype(str)
        if column in taken or values.empty:
            continue
        if date_format(values) or (values.str.contains(r"\d{4}-\d{2}-\d{2}").all()
                                   and pd.to_datetime(values, errors="coerce", format="ISO8601").notna().all()):
            return column
    return None
