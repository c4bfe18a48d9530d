"""The page's tune cards: the HTML the chat writes for each tune, and the script that brings it to life."""
