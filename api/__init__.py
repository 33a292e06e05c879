"""The JSON routes `streamlit run app.py` serves beside the dashboard (see app.py)."""
