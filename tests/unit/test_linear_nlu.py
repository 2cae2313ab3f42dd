"""connectors/linear_nlu.py in the Rasa environment: trained on a small data set, saved into a
model storage, loaded back (as `rasa run` does) and asked what a message means."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv" / "rasa" / "bin" / "python"

SCRIPT = textwrap.dedent(
    """
    import json, sys, tempfile
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from connectors.linear_nlu import LinearIntentClassifier, LinearResponseSelector

    examples = {
        "greet": ["你好", "您好", "在吗", "早上好", "有人吗"],
        "file_petition": ["我要投诉", "我想反映个问题", "我要举报物业", "帮我登记一个信访", "我想投诉拖欠工资"],
        "inform": ["13812345678", "我叫王建国", "住在文二路1号", "110105194912310038", "电话是13912345678"],
        "faq/fees": ["信访要收费吗", "反映问题要花钱吗", "信访交不交钱", "登记收不收费"],
        "faq/hotline_12345": ["12345热线和信访有什么区别", "打12345行不行", "12345能反映问题吗", "热线电话是多少"],
    }
    messages = []
    for label, texts in examples.items():
        intent, _, key = label.partition("/")
        for text in texts:
            data = {"text": text, "intent": intent}
            if key:
                data["intent_response_key"] = label
            messages.append(Message(data=data))
    responses = {"utter_faq/fees": [{"text": "信访不收费。"}], "utter_faq/hotline_12345": [{"text": "12345 是热线。"}]}
    training = TrainingData(messages, responses=responses,
                            regex_features=[{"name": "phone", "pattern": "1[3-9]\\\\d{9}"}])
    storage_dir = Path(tempfile.mkdtemp())
    storage = LocalModelStorage(storage_dir)
    context = ExecutionContext(GraphSchema({}), "test")
    tokenizer = JiebaTokenizer.create({**JiebaTokenizer.get_default_config()}, storage,
                                      Resource("tokenizer"), context)
    tokenizer.process_training_data(training)
    components = [(LinearIntentClassifier, Resource("intents")), (LinearResponseSelector, Resource("faq"))]
    for cls, resource in components:
        cls.create({**cls.get_default_config()}, storage, resource, context).train(training)
    loaded = [cls.load({**cls.get_default_config()}, storage, resource, context) for cls, resource in components]

    out = {}
    for text in sys.argv[2:]:
        message = Message(data={"text": text})
        tokenizer.process([message])
        for component in loaded:
            component.process([message])
        out[text] = message.as_dict(only_output_properties=True)
        # the prepared weights give the SVM's own margins
        import numpy as np
        for component in loaded:
            model = component.model
            vector = model.features.transform([model.document(message)])
            labels, weights, intercept, known, _ = model.scorer()
            ours = (model.vector(message) @ weights).toarray().ravel() + intercept
            # the margins rank uses: the sparse product's, to the bit; none without a known feature
            out.setdefault("__margins_agree__", True)
            margins = model.margins(message)
            if margins is None:
                out["__margins_agree__"] &= model.vector(message)[:, :known].nnz == 0
            else:
                out["__margins_agree__"] &= bool(np.array_equal(margins, ours))
                out.setdefault("__margins_seen__", 0)
                out["__margins_seen__"] += 1
            out.setdefault("__margins_agree__", True)
            ours_vector = model.vector(message)
            out["__margins_agree__"] &= ours_vector.shape == vector.shape
            out["__margins_agree__"] &= bool(np.array_equal(ours_vector.indices, vector.sorted_indices().indices))
            out["__margins_agree__"] &= bool(np.allclose(ours_vector.toarray(), vector.toarray(), atol=1e-6))
            out.setdefault("__margins_agree__", True)
            out["__margins_agree__"] &= bool(np.allclose(ours, model.svm.decision_function(vector).ravel()))
            out["__margins_agree__"] &= labels == [str(c) for c in model.svm.classes_]
    print(json.dumps(out, ensure_ascii=False))
    """
)


def parse(*texts: str) -> dict[str, dict]:
    if not RASA_PYTHON.exists():
        pytest.skip("no Rasa environment (.venv/rasa)")
    result = subprocess.run([str(RASA_PYTHON), "-W", "ignore", "-c", SCRIPT, str(ROOT), *texts],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def parsed() -> dict[str, dict]:
    return parse("我想投诉小区物业", "请问信访收费吗", "13712345678", "123456", "654321", "呃……", "？？")


def test_the_intent_and_its_ranking_after_a_save_and_a_load(parsed: dict[str, dict]) -> None:
    out = parsed["我想投诉小区物业"]
    assert out["intent"]["name"] == "file_petition"
    confidences = [r["confidence"] for r in out["intent_ranking"]]
    assert confidences == sorted(confidences, reverse=True) and len(confidences) == 4
    assert abs(sum(confidences) - 1.0) < 1e-6 and out["intent"]["confidence"] == confidences[0]


def test_the_policy_answer_in_the_response_selector_format(parsed: dict[str, dict]) -> None:
    out = parsed["请问信访收费吗"]
    assert out["intent"]["name"] == "faq"
    selected = out["response_selector"]["faq"]
    assert selected["response"]["intent_response_key"] == "faq/fees"
    assert selected["response"]["utter_action"] == "utter_faq/fees"
    assert "responses" not in selected["response"]  # the domain's response holds the text
    assert [r["intent_response_key"] for r in selected["ranking"]] == ["faq/fees", "faq/hotline_12345"]
    assert out["response_selector"]["all_retrieval_intents"] == ["faq"]


def test_numbers_are_read_by_their_shape(parsed: dict[str, dict]) -> None:
    assert parsed["13712345678"]["intent"]["name"] == "inform"
    # the characters of a number are its shape ("123456" is not closer to the hotline 12345
    # than "654321" is); a number seen whole in training still counts as a word
    assert parsed["123456"]["intent_ranking"] == parsed["654321"]["intent_ranking"]


@pytest.mark.parametrize("text", ["呃……", "？？"])
def test_a_message_without_known_content_gets_no_intent(parsed: dict[str, dict], text: str) -> None:
    out = parsed[text]
    assert out["intent"] == {"name": None, "confidence": 0.0}
    assert out["intent_ranking"] == []
    assert "response_selector" not in out


def test_the_prepared_weights_give_the_svms_own_margins(parsed: dict[str, dict]) -> None:
    assert parsed["__margins_agree__"] is True
    assert parsed["__margins_seen__"] >= 4  # every known message, by both components
