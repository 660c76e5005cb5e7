"""Write .env from .sampleenv with a fresh API_KEY, or fill in a missing/placeholder key."""
import re
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import Config  # noqa: E402

ENV, SAMPLE = ROOT / ".env", ROOT / ".sampleenv"


def main():
    """Create or repair .env so the API can start."""
    text = ENV.read_text() if ENV.exists() else SAMPLE.read_text()
    match = re.search(r"^API_KEY=(.*)$", text, flags=re.MULTILINE)
    current = match.group(1).strip() if match else ""
    if Config(API_KEY=current).api_key_problem() is None and ENV.exists():
        return
    key = secrets.token_urlsafe(32)
    if match and Config(API_KEY=current).api_key_problem():
        text = text[: match.start()] + f"API_KEY={key}" + text[match.end() :]
    elif not match:
        text += f"\nAPI_KEY={key}\n"
    ENV.write_text(text)
    ENV.chmod(0o600)
    print(f"wrote {ENV.name} with a new API_KEY")


if __name__ == "__main__":
    main()
