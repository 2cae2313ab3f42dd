"""Intent classification and policy-answer selection with linear models (scikit-learn).

Two NLU components of ``config.yml`` that replace Rasa's TensorFlow classifiers:

- ``LinearIntentClassifier`` sets ``intent`` and ``intent_ranking`` like DIETClassifier;
- ``LinearResponseSelector`` sets ``response_selector`` for one retrieval intent (``faq``) in
  the format of Rasa's ResponseSelector, which ``utter_faq`` (ActionRetrieveResponse),
  ``actions/clarify.py`` and ``scripts/faq_accuracy.py`` read.

Each message is represented by TF-IDF weights (sublinear term frequency) of three kinds of
features: character n-grams of the text (robust to segmentation errors, typos and homophones
that keep one character), word n-grams of the jieba tokens of the pipeline's tokenizer, and
one feature per pattern of ``data/nlu/regex.yml`` that matches (an ID number, a phone number,
a case number). A linear support vector machine (liblinear, one-vs-rest, classes weighted by
their size) is trained on them in seconds.

Confidences are the softmax of the SVM's margins times ``temperature``: the ranking is the
SVM's, and the temperature sets how sharply the top intent stands out, which is what
FallbackClassifier's ``threshold`` and ``ambiguity_threshold`` read. Both were chosen on
the held-out sets (tests/nlu/heldout.yml, tests/nlu/faq_heldout.yml); `make bench` prints the
scores.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
import re
import unicodedata
import zlib
from typing import Any, Dict, Iterable, List, Optional, Sequence, Text, Tuple

import joblib
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy import sparse
from scipy.special import softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

logger = logging.getLogger(__name__)

MODEL_FILE = "linear.joblib"

# A message as the features see it: (lower-cased text, lower-cased tokens, names of matching patterns).
Document = Tuple[str, Tuple[str, ...], Tuple[str, ...]]


def content(text: str) -> str:
    """The text without punctuation, symbols and spaces: n-grams across "，" or "……" say nothing."""
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PSZC")


DIGITS = re.compile(r"\d")


def char_text(text: str) -> str:
    """What the character n-grams read: every digit is "0" (a number's shape, not its value:
    "123456" is an answer like a phone number, not the hotline 12345; the words keep values)."""
    return DIGITS.sub("0", content(text).lower())


def char_grams(doc: Document, low: int, high: int) -> List[str]:
    text = doc[0]
    return [text[i:i + n] for n in range(low, high + 1) for i in range(len(text) - n + 1)]


def word_grams(doc: Document, low: int, high: int) -> List[str]:
    tokens = doc[1]
    return ["\u0001".join(tokens[i:i + n]) for n in range(low, high + 1) for i in range(len(tokens) - n + 1)]


def pattern_marks(doc: Document) -> List[str]:
    # a constant mark too: the vocabulary is never empty when no example matches a pattern
    return ["__any__", *doc[2]]


def vectorizer(char_ngrams: Sequence[int], word_ngrams: Sequence[int]) -> FeatureUnion:
    def tfidf(analyzer: Any) -> TfidfVectorizer:
        return TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, dtype=np.float32)

    return FeatureUnion([
        ("chars", tfidf(functools.partial(char_grams, low=char_ngrams[0], high=char_ngrams[1]))),
        ("words", tfidf(functools.partial(word_grams, low=word_ngrams[0], high=word_ngrams[1]))),
        ("patterns", tfidf(pattern_marks)),
    ])


class LinearModel:
    """The features and the SVM of one classification task; picklable (joblib)."""

    def __init__(self, config: Dict[Text, Any], patterns: Iterable[Dict[Text, Text]]) -> None:
        self.config = dict(config)
        self.patterns = [(p["name"], p["pattern"]) for p in patterns]
        self._compiled: Optional[List[Tuple[str, re.Pattern]]] = None
        self._scorer: Optional[Tuple[List[str], Any, np.ndarray, int, List[np.ndarray]]] = None
        self.features = vectorizer(config["char_ngrams"], config["word_ngrams"])
        self.svm = LinearSVC(C=config["C"], class_weight="balanced", random_state=config["random_seed"])

    def __getstate__(self) -> Dict[str, Any]:
        return {**self.__dict__, "_compiled": None, "_scorer": None}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("_scorer", None)

    def compiled(self) -> List[Tuple[str, re.Pattern]]:
        if self._compiled is None:
            self._compiled = [(name, re.compile(pattern, re.IGNORECASE)) for name, pattern in self.patterns]
        return self._compiled

    def document(self, message: Message) -> Document:
        text = str(message.get(TEXT) or "")
        tokens = tuple(t.text.lower() for t in message.get(TOKENS_NAMES[TEXT]) or [] if content(t.text))
        marks = tuple(sorted({f"__{name}__" for name, pattern in self.compiled() if pattern.search(text)}))
        return char_text(text), tokens, marks

    def fit(self, messages: List[Message], labels: List[str]) -> None:
        matrix = self.features.fit_transform([self.document(m) for m in messages])
        self.svm.fit(matrix, np.array(labels))
        self.svm.sparsify()  # most n-grams weigh nothing for most labels: a smaller model file
        self._scorer = None

    @property
    def labels(self) -> List[str]:
        return [str(label) for label in self.svm.classes_]

    def scorer(self) -> Tuple[List[str], Any, np.ndarray, int, List[np.ndarray]]:
        """What ``rank`` needs, prepared once per loaded model: the labels, the SVM's weights
        as a features x labels matrix in the row format a message's vector multiplies
        (the SVM's own ``decision_function`` converts its sparse weights on every call), the
        intercepts, the number of character and word features, and each part's IDF weights
        (scikit-learn's ``idf_`` sums its diagonal matrix again on every access)."""
        if self._scorer is None:
            coef = self.svm.coef_
            weights = coef.T.tocsr() if hasattr(coef, "tocsr") else np.ascontiguousarray(coef.T)
            idfs = [np.asarray(part.idf_, dtype=np.float64) for _, part in self.features.transformer_list]
            known = sum(idfs[i].shape[0] for i in (0, 1))
            self._scorer = (self.labels, weights, np.asarray(self.svm.intercept_, dtype=np.float64), known, idfs)
        return self._scorer

    def features_of(self, message: Message) -> Tuple[np.ndarray, np.ndarray, int]:
        """The message's features, as ``self.features.transform`` gives them (sublinear TF
        times IDF, each part normalised, the parts side by side), for one message without
        scikit-learn's per-call checks and joblib machinery, which cost more than the
        arithmetic of one short message (tests/unit/test_linear_nlu.py compares the two):
        the columns (ascending), their values and the number of features."""
        doc = self.document(message)
        columns: List[np.ndarray] = []
        values: List[np.ndarray] = []
        offset = 0
        for (_, part), idf in zip(self.features.transformer_list, self.scorer()[4]):
            vocabulary = part.vocabulary_
            counts = Counter(index for index in map(vocabulary.get, part.analyzer(doc)) if index is not None)
            if counts:
                cols = np.fromiter(sorted(counts), dtype=np.int64, count=len(counts))
                tf = np.array([counts[c] for c in cols], dtype=np.float64)
                weights = (np.log(tf) + 1.0) * idf[cols]
                columns.append(cols + offset)
                values.append(weights / np.sqrt(np.dot(weights, weights)))
            offset += idf.shape[0]
        if not columns:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), offset
        return np.concatenate(columns), np.concatenate(values).astype(np.float32), offset

    def vector(self, message: Message) -> Any:
        """``features_of`` as the one-row sparse matrix ``self.features.transform`` gives."""
        cols, values, width = self.features_of(message)
        return sparse.csr_matrix((values, cols, [0, cols.shape[0]]), shape=(1, width))

    def margins(self, message: Message) -> Optional[np.ndarray]:
        """The SVM's margin for each label (``decision_function``), ``None`` for a message
        with no character or word seen in training. The message's few features pick their
        rows of the weights directly, with the products summed in the order of the sparse
        product (column by column), instead of building sparse matrices for one message."""
        labels, weights, intercept, known, _ = self.scorer()
        cols, values, _ = self.features_of(message)
        if not cols.shape[0] or cols[0] >= known:  # ascending: the first is the smallest
            return None
        if sparse.issparse(weights):
            starts, ends = weights.indptr[cols], weights.indptr[cols + 1]
            lengths = ends - starts
            total = int(lengths.sum())
            # the positions of the picked rows' entries, row after row
            take = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
            products = weights.data[take] * np.repeat(values.astype(np.float64), lengths)
            product = np.bincount(weights.indices[take], weights=products, minlength=weights.shape[1])
        else:
            product = values.astype(np.float64) @ weights[cols]
        return product + intercept

    def rank(self, message: Message) -> List[Tuple[str, float]]:
        """(label, confidence) of every label, best first; nothing for a message with no
        character or word seen in training ("呃……", "？？"): FallbackClassifier asks again."""
        labels = self.scorer()[0]
        margins = self.margins(message)
        if margins is None:
            return []
        if margins.shape[0] == 1:  # two labels: one margin
            margins = np.hstack([-margins, margins])
        confidences = softmax(margins * self.config["temperature"])
        order = np.argsort(-confidences, kind="stable")
        return [(labels[i], float(confidences[i])) for i in order]


class _LinearComponent(GraphComponent):
    """Training, persistence and loading shared by the two components."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "char_ngrams": [1, 2],
            "word_ngrams": [1, 2],
            "C": 2.0,
            "temperature": 6.0,
            "ranking_length": 10,
            "random_seed": 42,
        }

    @classmethod
    def required_components(cls) -> List[type]:
        return [Tokenizer]

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn", "joblib"]

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 model: Optional[LinearModel] = None, extra: Optional[Dict[Text, Any]] = None) -> None:
        self.component_config = config
        self._model_storage = model_storage
        self._resource = resource
        self.model = model
        self.extra = extra or {}

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "_LinearComponent":
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "_LinearComponent":
        try:
            with model_storage.read_from(resource) as path:
                saved = joblib.load(path / MODEL_FILE)
        except (ValueError, FileNotFoundError):
            logger.warning("%s: no trained model in the archive; it will predict nothing.", cls.__name__)
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, saved["model"], saved["extra"])

    def persist(self) -> None:
        if self.model is None:
            return
        with self._model_storage.write_to(self._resource) as path:
            joblib.dump({"model": self.model, "extra": self.extra}, path / MODEL_FILE, compress=3)

    def train_on(self, training_data: TrainingData, messages: List[Message], labels: List[str]) -> Resource:
        if len(set(labels)) < 2:
            logger.warning("%s: fewer than two labels to learn; skipped.", self.__class__.__name__)
            return self._resource
        self.model = LinearModel(self.component_config, training_data.regex_features)
        self.model.fit(messages, labels)
        self.persist()
        return self._resource

    def ranking(self, message: Message) -> List[Tuple[str, float]]:
        if self.model is None or not message.get(TEXT):
            return []
        return self.model.rank(message)[: self.component_config["ranking_length"] or None]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LinearIntentClassifier(_LinearComponent, IntentClassifier):
    """Intent and intent ranking of a message (every intent of the training data)."""

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT) and m.get(INTENT)]
        return self.train_on(training_data, examples, [m.get(INTENT) for m in examples])

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            ranking = self.ranking(message)
            if not ranking:  # nothing known in the message: no intent, FallbackClassifier answers
                message.set(INTENT, {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
                continue
            entries = [{INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence} for name, confidence in ranking]
            message.set(INTENT, dict(entries[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, entries, add_to_output=True)
        return messages


RESPONSE_SELECTOR = "response_selector"


def template_key(intent_response_key: str) -> str:
    """"faq/fees" -> "utter_faq/fees", the response of the domain that answers it."""
    return f"utter_{intent_response_key}"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LinearResponseSelector(_LinearComponent):
    """The answer of one retrieval intent (``faq/fees`` …) in the output format of Rasa's
    ResponseSelector: ``response_selector[<retrieval_intent>]`` with ``response`` and ``ranking``.

    ``response`` names the answer (``intent_response_key``, ``utter_action``) without Rasa's
    copy of its text (``responses``): ``utter_faq`` takes the text from the domain by
    ``utter_action``, and the parse of every message stays in the conversation's events,
    which are stored and sent to the action server with each call."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**_LinearComponent.get_default_config(), "retrieval_intent": "faq"}

    def train(self, training_data: TrainingData) -> Resource:
        intent = self.component_config["retrieval_intent"]
        examples = [m for m in training_data.intent_examples
                    if m.get(TEXT) and m.get(INTENT) == intent and m.get(INTENT_RESPONSE_KEY)]
        return self.train_on(training_data, examples, [m.get(INTENT_RESPONSE_KEY) for m in examples])

    def process(self, messages: List[Message]) -> List[Message]:
        intent = self.component_config["retrieval_intent"]
        for message in messages:
            ranking = self.ranking(message)
            if not ranking:
                continue
            top, confidence = ranking[0]
            prediction = {
                "response": {
                    PREDICTED_CONFIDENCE_KEY: confidence,
                    INTENT_RESPONSE_KEY: top,
                    "utter_action": template_key(top),
                },
                "ranking": [{"id": zlib.crc32(key.encode()), PREDICTED_CONFIDENCE_KEY: score,
                             INTENT_RESPONSE_KEY: key} for key, score in ranking],
            }
            selectors = dict(message.get(RESPONSE_SELECTOR) or {})
            selectors.setdefault("all_retrieval_intents", [intent])
            selectors[intent] = prediction
            message.set(RESPONSE_SELECTOR, selectors, add_to_output=True)
        return messages
