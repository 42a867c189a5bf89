// First: configure zod before any module builds a schema.
import './zod-setup';
import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { useLab } from './lab';
import { provideLab } from './stores/lab-handle';
import './styles/base.css';

provideLab(useLab());
createApp(App).use(createPinia()).mount('#app');
