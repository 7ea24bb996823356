/* SpiffyJS: placeholder, replaced by the tracking work. */
