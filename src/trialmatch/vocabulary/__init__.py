"""Concepts, synonyms, codes and spellings, shared by import, search and criteria."""

from trialmatch.vocabulary.concepts import Concept, ConceptMatch, Vocabulary, load_vocabulary
from trialmatch.vocabulary.spelling import americanize, normalize_spelling

__all__ = ["Concept", "ConceptMatch", "Vocabulary", "americanize", "load_vocabulary", "normalize_spelling"]
