"""The web app: server-rendered pages for people, on the same commands and views as the JSON API."""
