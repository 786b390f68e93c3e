"""The project's error family.

Errors are raised deep, with a message a user can act on, and converted to output only at
the edges (CLI: one line on stderr and exit code 1; UI: a banner). Nothing below the edge
prints or exits.
"""

from __future__ import annotations


class RagError(Exception):
    """Base class: `str(err)` is a complete one-line message for the user."""


class ConfigError(RagError):
    """A setting (environment variable or flag) has an invalid value."""


class QuestionError(RagError):
    """A question (or a questions file) cannot be answered as given: empty, malformed."""


class DocumentError(RagError):
    """One input file could not be read or parsed; ingestion skips it and goes on."""


class StoreError(RagError):
    """The vector store or the catalog cannot be opened or written."""


class EmbedderMismatchError(StoreError):
    """Vectors of one embedder would be mixed with a collection made by another."""


class EmbedderUnavailableError(RagError):
    """An embedding model cannot be loaded on this machine (e.g. the bundled one)."""


class LLMError(RagError):
    """Anything that went wrong talking to the server that runs the language model
    (Ollama, or an OpenAI-compatible server): the answer falls back to model-free."""


class OllamaError(LLMError):
    """Anything that went wrong talking to Ollama."""


class OllamaUnavailableError(OllamaError):
    """Ollama could not be reached (refused connection, DNS failure, connect timeout)."""


class OllamaTimeoutError(OllamaError):
    """Ollama was reached but did not answer in time."""


class ModelNotFoundError(OllamaError):
    """The requested model is not pulled in Ollama."""

    def __init__(self, model: str, host: str) -> None:
        super().__init__(
            f'model {model} is not available in Ollama at {host}: run "ollama pull {model}"'
        )
        self.model = model
        self.host = host


class OpenAIServerError(LLMError):
    """Anything that went wrong talking to an OpenAI-compatible server (RAG_LLM_BASE_URL)."""


class OpenAIUnavailableError(OpenAIServerError):
    """The OpenAI-compatible server could not be reached."""


class OpenAIModelNotFoundError(OpenAIServerError):
    """The OpenAI-compatible server does not serve the requested model."""

    def __init__(self, model: str, url: str, served: list[str]) -> None:
        offer = f" (it serves: {', '.join(served[:5])})" if served else ""
        super().__init__(
            f"model {model} is not served at {url}{offer}: set RAG_LLM_MODEL to a served model"
        )
        self.model = model
        self.url = url
