"""Cash at the desk and paid on behalf, voiding a mistaken collection, the daily cash close."""
