"""Peewee models over the schema that :mod:`flashcards.db` creates (migrations own the DDL).

Used by the store for ordinary reads and writes; the study loop's hot path uses prepared SQL in
:mod:`flashcards.store` for speed. ``tests/test_db.py`` checks these models match the migrated schema.
Times are integer epoch milliseconds (UTC); enums are ints (see :mod:`flashcards.drafts`).
"""

from __future__ import annotations

from peewee import (
    BooleanField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from flashcards.db import db


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class Deck(BaseModel):
    """A deck; hierarchical names use ``::`` (``Languages::French``). ``options`` is DeckOptions JSON."""

    name = TextField(unique=True)
    options = TextField(default="{}")
    description = TextField(default="")
    created_ms = IntegerField()


class Notetype(BaseModel):
    """A note type: field names and card templates (JSON), as in :class:`flashcards.drafts.DraftNotetype`."""

    name = TextField(unique=True)
    fields = TextField()
    templates = TextField()
    is_cloze = BooleanField(default=False)
    css = TextField(default="")


class Note(BaseModel):
    """A note: stable ``guid``, fields (JSON list of HTML), tags (``" a b "``), optional source text."""

    guid = TextField(unique=True)
    notetype = ForeignKeyField(Notetype, column_name="notetype_id")
    fields = TextField()
    tags = TextField(default=" ")
    source = TextField(default="")
    sort_field = TextField(default="")
    created_ms = IntegerField()
    modified_ms = IntegerField()


class Card(BaseModel):
    """A card; its scheduling columns are a cache of replaying its reviews from ``baseline``."""

    note = ForeignKeyField(Note, column_name="note_id", on_delete="CASCADE")
    ord = IntegerField()
    deck = ForeignKeyField(Deck, column_name="deck_id")
    state = IntegerField(default=0)
    step = IntegerField(null=True)
    stability = FloatField(null=True)
    difficulty = FloatField(null=True)
    due_ms = IntegerField(null=True)
    last_review_ms = IntegerField(null=True)
    reps = IntegerField(default=0)
    lapses = IntegerField(default=0)
    suspended = BooleanField(default=False)
    buried_until = IntegerField(default=0)  # study-day ordinal the card is buried until (exclusive)
    flag = IntegerField(default=0)
    position = IntegerField(default=0)
    baseline = TextField(null=True)


class Review(BaseModel):
    """One answer (or an imported manual/rescheduled entry). Append-only; ``id`` is a review_id."""

    id = IntegerField(primary_key=True)
    card_id = IntegerField()
    note_guid = TextField()
    ord = IntegerField()
    deck_id = IntegerField(null=True)
    time_ms = IntegerField()
    rating = IntegerField()
    kind = IntegerField()
    state_before = IntegerField()
    duration_ms = IntegerField(default=0)
    interval_s = IntegerField(null=True)
    undo = TextField(null=True)


class Setting(BaseModel):
    """Global settings as JSON values (rollover hour, theme, font size, window size, ...)."""

    key = TextField(primary_key=True)
    value = TextField()


class ShippedDeck(BaseModel):
    """Which version of each shipped deck was loaded, and whether the user deleted it."""

    key = TextField(primary_key=True)
    version = IntegerField()
    deck_name = TextField()
    deleted = BooleanField(default=False)


ALL_MODELS = (Deck, Notetype, Note, Card, Review, Setting, ShippedDeck)
